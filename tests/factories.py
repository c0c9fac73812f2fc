"""Test helpers that build learners in a known place in the semester."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from tutormesh.core.stores.learner import LearnerStore
from tutormesh.tools.curriculum import Topic, load_curriculum
from tutormesh.tools.ingest.draft import Deck, Draft, DraftAssignment, DraftTopic, DroppedItem, Figure, Slide

TODAY = date(2026, 10, 5)
NOW = "2026-10-05T10:00:00+00:00"


def make_learner(
    store: LearnerStore,
    *,
    week: int = 5,
    covered: int = 7,
    style: dict[str, float] | None = None,
    style_evidence: dict[str, list[float]] | None = None,
    subject: str = "math",
) -> str:
    """Create a student in `week` of the semester with the first `covered` topics mastered.

    `style_evidence` gives Beta counts per content type (answers seen after each type); without it
    the style weights are only a prior worth a few answers, which three wrong answers can overturn.
    """
    student_id = f"s-{uuid.uuid4().hex[:10]}"
    store.ensure_student(student_id, name=student_id)
    store.update_profile(student_id, learning_style=style or {"visual": 0.7, "audio": 0.3})
    if style_evidence:
        store.update_profile(student_id, style_counts=style_evidence)
    store.plan(student_id, subject, today=TODAY)
    store.set_plan(student_id, subject, start_date=TODAY - timedelta(weeks=week - 1))
    for topic in load_curriculum().subjects[subject].topics[:covered]:
        store.set_mastery(student_id, topic.skill, 0.97)
    return student_id


def make_draft(*, subject: str = "math", slug: str = "deck-unit-rates", title: str = "Unit rates from the deck",
               week: int = 6, keywords: tuple[str, ...] = ("unit rate", "price per kilogram"),
               base: str = "order-of-operations") -> Draft:
    """A draft as the content graph would build it: one topic (a shipped topic's templates, renamed),
    from a three-slide deck with a figure, one candidate item verification dropped, and an assignment."""
    source = load_curriculum(published=False).topic(base)
    raw = source.model_dump(mode="json")
    templates = [{**t, "id": f"{subject}.{slug}.d{t['difficulty']}", "subject": subject, "topic": slug, "skill": slug}
                 for t in raw["templates"]]
    topic = Topic.model_validate({**raw, "slug": slug, "title": title, "subject": subject, "skill": slug,
                                  "week": week, "keywords": list(keywords), "prerequisites": [],
                                  "templates": templates,
                                  "lesson": {**raw["lesson"], "title": f"{title}: the lesson"}})
    deck = Deck(file_name="unit-rates.md", sha256="0" * 64, format="md", slides=[
        Slide(number=1, title=title, text="A unit rate is a rate for one unit."),
        Slide(number=2, title="Price per kilogram", text="Divide the price by the mass.",
              figures=[Figure(alt="a price tag: 3 kg for 6 dollars", kind="diagram")]),
        Slide(number=3, title="Practice", text="Evaluate: 2 + 3 × 4")])
    return Draft(deck=deck, subject=subject, topics=[DraftTopic(topic=topic, source_slides=[1, 2, 3],
                                                                exercises_recovered=[3])],
                 dropped=[DroppedItem(source_slide=3, text="What is 1/0?", reason="no answer the grader accepts")],
                 assignment=DraftAssignment(title=f"{title}: practice",
                                            template_ids=[templates[0]["id"], templates[2]["id"]]))

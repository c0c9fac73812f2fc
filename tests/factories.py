"""Test helpers that build learners in a known place in the semester."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from tutormesh.core.stores.learner import LearnerStore
from tutormesh.tools.curriculum import load_curriculum

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

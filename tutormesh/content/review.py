"""Review a draft: read it beside its slides, edit an item's prompt or answer key, drop or keep a topic.

An edited item is validated as a template (its placeholders must name its parameters) and then
re-verified with the symbolic grader over several seeds: its key must grade as right and every
misconception as wrong, or the edit is refused (422) and the draft is unchanged. A topic is taught
at five difficulty levels, so a single item cannot be dropped: edit it, or drop its topic.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from tutormesh.core.errors import Conflict, Invalid, NotFound
from tutormesh.core.models import IngestJob, utcnow
from tutormesh.tools import solution_steps
from tutormesh.tools.curriculum import ExprError, ItemTemplate, TemplateError
from tutormesh.tools.grading import grade
from tutormesh.tools.ingest import linear
from tutormesh.tools.ingest.draft import Draft
from tutormesh.tools.ingest.family import Match

SEEDS = range(8)


class ItemEdit(BaseModel):
    """A reviewer's change to one item (a template): any of its prompt wordings and its answer key.

    Text may use the template's `{placeholders}`; `drop` is refused with the reason above.
    """

    model_config = ConfigDict(extra="forbid")
    prompt: str | None = Field(default=None, min_length=1, max_length=2000)
    prompt_b: str | None = Field(default=None, min_length=1, max_length=2000, description="variant B wording")
    answer: str | None = Field(default=None, min_length=1, max_length=500)
    drop: bool = False


def _solved(prompt: str) -> str | None:
    """The prompt's math solved independently; None when no solver reads it.

    A linear equation goes to the content graph's solver; other equations and plain arithmetic
    ("Evaluate: 2 + 3 × 4") to the re-teaching solver, so a key typed for them is checked too.
    """
    found = linear.solve(prompt, Match(family=linear.NAME, form="", level=1))
    if found is None and (solution := solution_steps.solve(prompt)) is not None:
        found = solution.answer
    return found


def verify(template: ItemTemplate) -> list[str]:
    """Return what is wrong with a template's items over `SEEDS` (empty: it verifies).

    The key must grade as right (and every misconception as wrong); when the prompt states an
    equation the solver reads back, the key must also agree with the solver's answer.
    """
    for seed in SEEDS:
        try:
            item = template.instantiate(seed, "A")
            template.instantiate(seed, "B")
        except TemplateError:  # every draw was refused, and the usual reason is this one
            return ["no numbers make it valid: its answer key equals one of its wrong answers, or its rules "
                    "exclude every draw"]
        except (ExprError, ZeroDivisionError, ValueError) as exc:
            return [f"seed {seed}: {exc}"]
        if not grade(item.answer, item.answer, form=item.form, time_limit_s=5.0).correct:
            return [f"the answer key {item.answer!r} (seed {seed}) is not an answer the grader can accept"]
        solved = _solved(item.prompt)
        if solved is not None and not grade(item.answer, solved, time_limit_s=5.0).correct:
            return [f"the answer key {item.answer!r} disagrees with the solver's {solved!r} for {item.prompt!r}"]
        for mis in item.misconceptions:
            if grade(item.answer, mis.answer, form=item.form, time_limit_s=5.0).correct:
                return [f"the wrong answer {mis.answer!r} (seed {seed}) grades as right against {item.answer!r}"]
    return []


def samples(draft: Draft) -> dict[str, dict[str, str]]:
    """One rendered item per template (seed 0), so a reviewer sees numbers, not only placeholders."""
    out: dict[str, dict[str, str]] = {}
    for entry in draft.topics:
        for template in entry.topic.templates:
            try:
                item = template.instantiate(0, "A")
                out[template.id] = {"prompt": item.prompt, "answer": item.answer}
            except (TemplateError, ExprError, ValueError) as exc:
                out[template.id] = {"prompt": "", "answer": "", "error": str(exc)}
    return out


def _reviewable(session: Session, job_id: str) -> tuple[IngestJob, Draft]:
    row = session.get(IngestJob, job_id)
    if row is None:
        raise NotFound("content job not found")
    if row.status != "ready" or row.draft is None:
        raise Conflict(f"the draft is not ready for review (status {row.status})")
    return row, Draft.model_validate(row.draft)


def edit_item(session: Session, job_id: str, template_id: str, edit: ItemEdit, *, by: str) -> dict[str, Any]:
    """Apply an edit to one template of a draft, re-verified; return the new item and its sample."""
    row, draft = _reviewable(session, job_id)
    if edit.drop:
        topic = next((t.topic.slug for t in draft.topics for x in t.topic.templates if x.id == template_id), None)
        raise Invalid(f"a topic needs all five levels, so one item cannot be dropped: edit it, or drop its "
                      f"topic {topic!r}" if topic else "no such item in this draft")
    changes = {k: v.strip() for k, v in edit.model_dump(exclude={"drop"}).items() if v is not None and v.strip()}
    if not changes:
        raise Invalid("nothing to change: give prompt, prompt_b or answer")
    topics = []
    found: ItemTemplate | None = None
    for entry in draft.topics:
        ids = [t.id for t in entry.topic.templates]
        if template_id not in ids:
            topics.append(entry)
            continue
        templates = list(entry.topic.templates)
        found = templates[ids.index(template_id)] = _edited(templates[ids.index(template_id)], changes)
        topics.append(entry.model_copy(update={"topic": entry.topic.model_copy(update={"templates": templates})}))
    if found is None:
        raise NotFound("no such item in this draft")
    if problems := verify(found):
        raise Invalid(f"{template_id}: the edited item does not verify: {problems[0]}")
    new = Draft.model_validate({**draft.model_dump(), "topics": [t.model_dump() for t in topics]})
    row.draft = new.model_dump(mode="json")
    row.edits = [*(row.edits or []), {"at": utcnow().isoformat(), "by": by, "item": template_id,
                                     "changed": sorted(changes)}]
    return {"item": found.model_dump(mode="json"), "sample": samples(new)[template_id]}


def _edited(template: ItemTemplate, changes: dict[str, str]) -> ItemTemplate:
    variants = {**template.variants}
    if "prompt" in changes:
        variants["A"] = changes["prompt"]
        variants.setdefault("B", changes["prompt"])
    if "prompt_b" in changes:
        variants["B"] = changes["prompt_b"]
    try:
        return ItemTemplate.model_validate({**template.model_dump(), "variants": variants,
                                            "answer": changes.get("answer", template.answer)})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(f"{template.id}: {first.get('msg', 'invalid template')}") from None


def set_dropped(session: Session, job_id: str, topic_slug: str, dropped: bool, *, by: str) -> list[str]:
    """Drop a topic from what would be published (or keep it again); return the dropped slugs."""
    row, draft = _reviewable(session, job_id)
    if topic_slug not in {t.topic.slug for t in draft.topics}:
        raise NotFound("no such topic in this draft")
    current = [s for s in row.dropped_topics or [] if s != topic_slug]
    row.dropped_topics = sorted([*current, topic_slug] if dropped else current)
    row.edits = [*(row.edits or []), {"at": utcnow().isoformat(), "by": by, "topic": topic_slug,
                                     "changed": ["dropped" if dropped else "kept"]}]
    return list(row.dropped_topics)


def unclash(draft: Draft, taken: set[str]) -> tuple[Draft, list[tuple[str, str]]]:
    """Rename the draft's topics whose slugs the curriculum already has (`ohms-law` -> `ohms-law-2`).

    A deck about a topic the curriculum teaches is normal; the published copy needs a slug of its
    own (template ids, skills and the assignment follow). Returns the draft and (old, new) pairs.
    """
    used = set(taken) | {t.topic.slug for t in draft.topics}
    renames: dict[str, str] = {}
    for entry in draft.topics:
        slug = entry.topic.slug
        if slug in taken:
            n = 2
            while f"{slug}-{n}" in used:
                n += 1
            renames[slug] = f"{slug}-{n}"
            used.add(renames[slug])
    if not renames:
        return draft, []
    ids: dict[str, str] = {}
    topics = []
    for entry in draft.topics:
        raw = entry.topic.model_dump(mode="json")
        new = renames.get(raw["slug"], raw["slug"])
        templates = []
        for t in raw["templates"]:
            ids[t["id"]] = f"{draft.subject}.{new}.d{t['difficulty']}"
            templates.append({**t, "id": ids[t["id"]], "topic": new, "skill": new if t["skill"] == raw["skill"]
                              else t["skill"]})
        topic = {**raw, "slug": new, "skill": new if raw["skill"] == raw["slug"] else raw["skill"],
                 "templates": templates, "prerequisites": [renames.get(p, p) for p in raw["prerequisites"]]}
        topics.append({**entry.model_dump(mode="json"), "topic": topic})
    assignment = draft.assignment.model_dump(mode="json") if draft.assignment else None
    if assignment is not None:
        assignment["template_ids"] = [ids.get(i, i) for i in assignment["template_ids"]]
    renamed = Draft.model_validate({**draft.model_dump(mode="json"), "topics": topics, "assignment": assignment})
    return renamed, sorted(renames.items())

"""The SME content agent's nodes: each stage of deck -> draft, thin over tools/ingest (no LLM by default)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from tutormesh.agents.content import assign as assigning
from tutormesh.agents.content import drafting
from tutormesh.graphs.content.context import ContentContext
from tutormesh.tools.ingest import lessons as lesson_tools
from tutormesh.tools.ingest import segment as segment_tools
from tutormesh.tools.ingest import templates as template_tools
from tutormesh.tools.ingest import verify as verify_tools
from tutormesh.tools.ingest.draft import Deck, Draft, DraftTopic, DroppedItem
from tutormesh.tools.ingest.lessons import LessonPlan
from tutormesh.tools.ingest.templates import Candidate, Recovered


def _deck(state: Mapping[str, Any]) -> Deck:
    return Deck.model_validate(state["deck"])


def _context(runtime: Runtime[ContentContext]) -> ContentContext:
    return runtime.context if isinstance(runtime.context, ContentContext) else ContentContext()


def segment(state: Mapping[str, Any]) -> dict[str, Any]:
    """Split the deck into one section per lesson."""
    return {"sections": segment_tools.segment(_deck(state))}


def lessons(state: Mapping[str, Any]) -> dict[str, Any]:
    """Read each section's lesson text and exercises; report exercises no family recognises."""
    plans = lesson_tools.plan(_deck(state), state["sections"])
    dropped = [DroppedItem(source_slide=r.exercise.slide, text=r.exercise.prompt,
                           reason="no item rule recognises this exercise (its numbers cannot be parameterised)")
               for p in plans for r in p.found if r.match is None]
    for p in plans:
        if p.primary is None:
            dropped.append(DroppedItem(source_slide=p.slides[0], text=p.title,
                                       reason="lesson without items: no exercise, formula or equation of a known kind"))
        dropped += [DroppedItem(source_slide=r.exercise.slide, text=r.exercise.prompt,
                                reason=f"a {r.match.family} exercise in a lesson whose items are {p.primary.family}")
                    for r in p.found if p.primary and r.match and r.match.family != p.primary.family]
    return {"lessons": plans, "dropped": dropped}


def templates(state: Mapping[str, Any], runtime: Runtime[ContentContext]) -> dict[str, Any]:
    """Write five levels of templates per lesson from its own exercises."""
    subject = state["subject"]
    out: list[Candidate] = []
    for plan in state["lessons"]:
        if plan.primary is not None:
            out += template_tools.candidates(subject, plan.slug, plan.primary, plan.found)
    if _context(runtime).llm_wording:
        out = [drafting.reword(c) for c in out]
    return {"candidates": out}


def _recover(plan: LessonPlan, keyed: list[Candidate]) -> tuple[list[Recovered], list[DroppedItem]]:
    by_level = {c.level: c for c in keyed if c.topic == plan.slug}
    recovered, dropped = [], []
    for found in plan.found:
        if found.match is None or plan.primary is None or found.match.family != plan.primary.family:
            continue
        level = by_level[found.match.level]
        if not template_tools.fits(level.match, found.match):
            dropped.append(DroppedItem(source_slide=found.exercise.slide, text=found.exercise.prompt,
                                       reason=f"level {level.level} is written from another shape of exercise "
                                              f"({level.match.form}); a topic has one template a level"))
            continue
        candidate = level.model_copy(update={"source": found.exercise, "match": level.match.model_copy(
            update={"env": found.match.env})})
        key, reason = verify_tools.check_source(candidate)
        if key is None:
            dropped.append(DroppedItem(source_slide=found.exercise.slide, text=found.exercise.prompt, reason=reason))
        else:
            recovered.append(Recovered(slide=found.exercise.slide, prompt=found.exercise.prompt,
                                       template_id=candidate.template_id, key=key))
    return recovered, dropped


def keys(state: Mapping[str, Any]) -> dict[str, Any]:
    """Key every template by its family's rule and check each deck exercise's stated answer against it."""
    keyed = [template_tools.with_key(c) for c in state["candidates"]]
    recovered: list[Recovered] = []
    dropped: list[DroppedItem] = []
    for plan in state["lessons"]:
        got, lost = _recover(plan, keyed)
        recovered += got
        dropped += lost
    return {"candidates": keyed, "recovered": recovered, "dropped": dropped}


def verify(state: Mapping[str, Any], runtime: Runtime[ContentContext]) -> dict[str, Any]:
    """Verify every template at several draws; keep a lesson only when all five levels pass."""
    seeds = _context(runtime).seeds
    subject = state["subject"]
    checks = {"templates": 0, "templates_verified": 0, "items": 0}
    topics: list[DraftTopic] = []
    dropped: list[DroppedItem] = []
    kept_slugs: set[str] = set()
    for week, plan in enumerate(state["lessons"], 1):
        mine = [c for c in state["candidates"] if c.topic == plan.slug]
        if not mine:
            continue
        passed = []
        for candidate in mine:
            template, reason, items = verify_tools.check_template(candidate, subject, seeds)
            checks["templates"] += 1
            checks["items"] += items
            if template is None:
                slide = candidate.source.slide if candidate.source else plan.slides[0]
                dropped.append(DroppedItem(source_slide=slide, text=str(candidate.spec["variants"]["A"]),
                                           reason=f"{candidate.template_id}: {reason}"))
            else:
                checks["templates_verified"] += 1
                passed.append(template)
        if len(passed) < len(mine):
            dropped.append(DroppedItem(source_slide=plan.slides[0], text=plan.title,
                                       reason="lesson dropped: a topic needs all five levels to pass verification"))
            continue
        kept_slugs.add(plan.slug)
        recovered = sorted({r.slide for r in state["recovered"] if r.template_id.split(".")[1] == plan.slug})
        topics.append(DraftTopic(topic=lesson_tools.topic(plan, week, subject, passed), source_slides=plan.slides,
                                 exercises_recovered=recovered))
    recovered_kept = [r for r in state["recovered"] if r.template_id.split(".")[1] in kept_slugs]
    return {"topics": topics, "checks": checks, "dropped": dropped, "recovered": recovered_kept}


def assign(state: Mapping[str, Any], runtime: Runtime[ContentContext]) -> dict[str, Any]:
    """Propose the cohort's assignment from the verified templates and assemble the draft."""
    deck = _deck(state)
    ctx = _context(runtime)
    assignment = assigning.propose(state["topics"], deck.file_name, state.get("cohort"),
                                   limit=ctx.assignment_items, due_in_days=ctx.due_in_days)
    kept = {t.topic.slug for t in state["topics"]}
    worded = any(c.worded_by == "llm" for c in state["candidates"] if c.topic in kept)
    generator = "llm" if worded else "offline"
    draft = Draft(deck=deck, subject=state["subject"], topics=state["topics"], dropped=state.get("dropped", []),
                  assignment=assignment, generator=generator)
    return {"draft": draft}

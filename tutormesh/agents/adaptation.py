"""What the student agent shows with lessons and practice items, and what it learns from each answer.

The rules are pure functions in tools/learner_model.py; this module adds the committed plan (agreed
visual examples and recaps must arrive) and the run's `adaptive` switch (off: a fixed sequence,
text only, nothing learned), and what one answer teaches, with its reasons, for the practice write to store.
docs/learner-model.md explains every rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from tutormesh.agents.messages import say
from tutormesh.agents.sme import RECAP_SUPPORT, VISUAL_SUPPORT
from tutormesh.tools import learner_model as lm
from tutormesh.tools.bkt import BKTParams
from tutormesh.tools.curriculum import Item

SUPPORT_UNTIL_STREAK = 2  # support content comes with each new item until two right answers in a row
AGREED_VISUALS = 2  # "2 more visual examples per concept": the next two items of each topic carry a picture
EARLIER_ANSWERS = lm.PACE_WINDOW - 1  # the previous answers' signals one answer learns from, with its own


def draw_index(stats: Mapping[str, Mapping[str, Any]]) -> int:
    """How many answers the student has given: the Thompson draw's position (deterministic per history)."""
    return sum(int(row.get("attempts", 0)) for row in stats.values())


def lead_content(student_id: str, profile: Mapping[str, Any], draw: int, lead: str | None = None) -> str:
    """The content type an item or lesson leads with; the ONE place a chosen style beats the learned weights.

    In order: the style the student chose in their settings (`style_override`), the type the last
    session's reflection opens with (`lead`), else a Thompson draw over the learned weights.
    """
    for chosen in (profile.get("style_override"), lead):
        if chosen in lm.CONTENT_TYPES:
            return str(chosen)
    evidence = lm.style_evidence(profile.get("style_counts"), profile.get("learning_style"))
    return lm.choose_content(evidence, lm.seed_for(student_id, draw))


def item_content(student_id: str, profile: Mapping[str, Any], plan: Mapping[str, Any], row: Mapping[str, Any], *,
                 adaptive: bool, draw: int, agreed_shown: int = 0, lead: str | None = None) -> list[str]:
    """Content types shown with the next practice item ([]: the item alone).

    Adaptive: one type chosen over the learned weights (`lead_content`), and a picture on each topic's
    next AGREED_VISUALS items once the plan agreed extra visual examples (`agreed_shown`: how many that
    topic has had since, `agreed_visual` counts them). Fixed: the text explanation. Either way
    support fades after two right answers in a row. One type at a time keeps each answer's evidence
    about that type (a slow pace gets shorter steps instead: `short_steps`).
    """
    if int(row.get("streak", 0)) >= SUPPORT_UNTIL_STREAK:
        return []
    if not adaptive:
        return ["text"]
    kinds = [lead_content(student_id, profile, draw, lead)]
    if VISUAL_SUPPORT in plan.get("adjustments", []) and agreed_shown < AGREED_VISUALS:
        kinds.append("visual")
    return list(dict.fromkeys(kinds))


def agreed_visual(plan: Mapping[str, Any], kinds: list[str]) -> bool:
    """Whether the content of an item counts as one of the plan's agreed visual examples."""
    return "visual" in kinds and VISUAL_SUPPORT in plan.get("adjustments", [])


def short_steps(item: Item, language: str, *, pace: str, adaptive: bool) -> str | None:
    """At a slow pace, the open problem's first step, so the student starts with a short one."""
    if not adaptive or pace != "slow" or not item.hints:
        return None
    return say("short_steps", language, step=item.hints[0])


def lesson_extras(student_id: str, profile: Mapping[str, Any], plan: Mapping[str, Any], *, adaptive: bool,
                  draw: int, lead: str | None = None) -> list[str] | None:
    """What a lesson adds to its explanation and worked example (None: the fixed sequence's text only)."""
    if not adaptive:
        return None
    extras = [lead_content(student_id, profile, draw, lead)]
    if lm.is_visual_learner(profile) or VISUAL_SUPPORT in plan.get("adjustments", []):
        extras.append("visual")
    return list(dict.fromkeys(extras))


def recap_on_mastery(plan: Mapping[str, Any], profile: Mapping[str, Any], *, adaptive: bool) -> bool:
    """Whether a mastered topic ends with its recap: agreed in the plan, or recaps work best for the student."""
    return adaptive and (RECAP_SUPPORT in plan.get("adjustments", []) or lm.preferred(profile)[:1] == ["recap"])


class Learned(NamedTuple):
    """What one graded answer taught: the profile after it, its changed fields, their adaptation rows
    (as `LearnerStore.adapt` takes them) and the lines that tell the student."""

    profile: dict[str, Any]
    fields: dict[str, Any]
    adaptations: list[dict[str, Any]]
    lines: list[str]


def learned_from_answer(profile: Mapping[str, Any], stats: Mapping[str, Mapping[str, Any]],
                        signals: Mapping[str, Any], correct: bool, language: str, *,
                        earlier: Sequence[Mapping[str, Any]], skill: str = "", known: float = 0.5,
                        params: BKTParams | None = None) -> Learned:
    """What one graded answer changes in the profile, not written yet (the practice write stores it).

    `signals` are this answer's (not stored yet: the practice write stores them with the attempt);
    `earlier` the previous answers' signals as `LearnerStore.recent_engagement` returns them (at most
    EARLIER_ANSWERS; the graph state carries them); `known` is the mastery estimate on `skill` before
    the answer, `params` the skill's tracing parameters.
    """
    recent = [*earlier, {**signals, "correct": correct}]
    fields, changes = lm.learn(profile, stats, recent, signals["shown_before"], correct, skill=skill, known=known,
                               params=params, first_try=not signals.get("retry"))
    lines = []
    for change in changes:
        if change.kind == "pace":
            reason = say("pace_facts", language, **change.facts) if change.facts else change.reason
            lines.append(say("adapted_pace", language, pace=say(f"pace_{change.after}", language), reason=reason))
        elif change.kind == "learning_style":
            liked, was = lm.preferred({"learning_style": change.after}), lm.preferred({"learning_style": change.before})
            # Tell the student when their best type changes to one their answers favour (above the
            # neutral prior), not to a type with no evidence that moved up because another fell.
            if liked and liked[:1] != was[:1] and change.after[liked[0]] > lm.PREFER_THRESHOLD:
                lines.append(say("adapted_style", language, kinds=say(f"content_{liked[0]}", language)))
    rows = [{"kind": c.kind, "before": c.before, "after": c.after, "reason": c.reason} for c in changes]
    return Learned({**profile, **fields}, fields, rows, lines)

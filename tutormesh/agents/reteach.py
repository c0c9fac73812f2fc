"""SME agent, after a quiz: re-teach what most of a cohort got wrong, and re-pitch what comes next.

Pure decisions, unit-tested without a database. Tier 1 builds the in-depth explanation from the
curriculum (the topic's lesson, worked example and visual); an LLM tier may enrich it later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tutormesh.agents import rendering
from tutormesh.tools.curriculum import Topic

RAMP = "Introduce more practice questions (easier to harder)"
# Quiz score shares that move the plan: below LOW the next practice starts easier and ramps up;
# at or above HIGH a ramp put in place earlier is lifted.
LOW, HIGH = 0.5, 0.85


def needs_reteach(wrong: int, cohort_size: int, *, share: float = 0.6, min_answers: int = 5) -> bool:
    """The 60% rule: at least `share` of a cohort (of at least `min_answers` students) answered wrong."""
    return cohort_size >= min_answers and wrong >= share * cohort_size


def in_depth_explanation(topic: Topic, *, prompt: str, wrong_share: float, common_wrong: list[str]) -> str:
    """Write the re-teaching note for a question from the topic's lesson and worked example."""
    lesson = topic.lesson
    parts = [
        f"Many of you ({wrong_share:.0%}) found this question hard: {prompt}",
        f"Let's go through {lesson.title} step by step.",
        rendering.explanation(topic),
        rendering.worked_example(topic, "en"),
    ]
    if common_wrong:
        parts.append("Common answers that were not right: " + ", ".join(repr(a) for a in common_wrong[:3])
                     + ". Check each step above against how you got yours.")
    parts.append(rendering.visual(topic))
    return "\n\n".join(p for p in parts if p)


def difficulty_shift(score_share: float, plan: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return plan fields to change after a quiz (None: leave the plan as it is)."""
    adjustments = list(plan.get("adjustments", []))
    if score_share < LOW and not plan.get("difficulty_ramp"):
        return {"difficulty_ramp": True, "adjustments": [*adjustments, RAMP] if RAMP not in adjustments
                else adjustments}
    if score_share >= HIGH and plan.get("difficulty_ramp"):
        return {"difficulty_ramp": False, "adjustments": [a for a in adjustments if a != RAMP]}
    return None

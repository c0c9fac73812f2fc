"""Assessment agent: grades an answer to a practice item, deterministic graders first.

Tier 1 only here: the symbolic grader, then the item's known misconceptions for specific feedback
("You moved 3 to the other side without changing its sign.").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tutormesh.tools.curriculum import Item, load_curriculum
from tutormesh.tools.grading import grade


def grade_attempt(item: Item, answer: str) -> dict[str, Any]:
    """Grade `answer` against the item; explain a wrong answer by its misconception when one matches."""
    result = grade(item.answer, answer)
    verdict = {"correct": result.correct, "reason": result.reason, "feedback": result.feedback,
               "kind": result.kind}
    if result.correct or result.reason in ("parse_error", "too_complex", "timeout", "empty"):
        return verdict
    for misconception in item.misconceptions:
        if grade(misconception.answer, answer).correct:
            return {**verdict, "reason": "misconception", "feedback": misconception.feedback}
    return verdict


def run(state: Mapping[str, Any]) -> dict[str, Any]:
    """Grade `answer` for `item_id` (a curriculum item) or against a literal `expected` answer."""
    answer = state.get("answer", "")
    if state.get("item_id"):
        return {"grade": grade_attempt(load_curriculum().item(state["item_id"]), answer)}
    result = grade(state.get("expected", ""), answer)
    return {"grade": {"correct": result.correct, "reason": result.reason, "feedback": result.feedback,
                      "kind": result.kind}}

"""Assessment graph state: one answer to grade and its verdict."""

from __future__ import annotations

from typing import Any, TypedDict


class AssessmentState(TypedDict, total=False):
    """Grade `answer` against a curriculum `item_id`, or against a literal `expected` answer."""

    item_id: str
    expected: str
    answer: str
    grade: dict[str, Any]

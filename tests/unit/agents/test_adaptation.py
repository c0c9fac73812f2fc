"""What the student is told when their learned style changes."""

from __future__ import annotations

from typing import Any

from tutormesh.agents.adaptation import learn_from_answer


class _Store:
    """Only what learn_from_answer reads and writes."""

    def __init__(self) -> None:
        self.recorded: list[dict[str, Any]] = []

    def recent_engagement(self, student_id: str, *, limit: int = 8) -> list[dict[str, Any]]:
        return []

    def adapt(self, student_id: str, fields: Any, changes: list[dict[str, Any]]) -> None:
        self.recorded += changes


def _answer(store: _Store, profile: dict[str, Any], shown: list[str],
            correct: bool) -> tuple[dict[str, Any], list[str]]:
    signals = {"shown_before": shown, "seconds": 20.0, "idle_s": 0.0, "hints_used": 0, "retry": False, "streak": 0}
    return learn_from_answer(store, "ana", profile, {}, signals, correct, "en")  # type: ignore[arg-type]


def test_one_wrong_answer_after_text_does_not_claim_pictures_work_better() -> None:
    store = _Store()
    profile = {"pace": "moderate", "learning_style": {}, "style_counts": {}, "strengths": [], "weaknesses": []}
    _, lines = _answer(store, profile, ["text"], correct=False)
    assert any(c["kind"] == "learning_style" for c in store.recorded)  # the change is still recorded
    assert lines == []  # but nothing says "you do best after pictures": pictures have no evidence yet


"""What the student is told when their learned style changes."""

from __future__ import annotations

from typing import Any

from tutormesh.agents.adaptation import Learned, learned_from_answer


class _Store:
    """The store read whose rows learned_from_answer takes as `earlier`."""

    def recent_engagement(self, student_id: str, *, limit: int = 8) -> list[dict[str, Any]]:
        return []


def _answer(store: _Store, profile: dict[str, Any], shown: list[str], correct: bool, language: str = "en") -> Learned:
    signals = {"shown_before": shown, "seconds": 20.0, "idle_s": 0.0, "hints_used": 0, "retry": False, "streak": 0}
    return learned_from_answer(profile, {}, signals, correct, language, earlier=store.recent_engagement("ana"))


def test_one_wrong_answer_after_text_does_not_claim_pictures_work_better() -> None:
    profile = {"pace": "moderate", "learning_style": {}, "style_counts": {}, "strengths": [], "weaknesses": []}
    learned = _answer(_Store(), profile, ["text"], correct=False)
    assert any(c["kind"] == "learning_style" for c in learned.adaptations)  # the change is still recorded
    assert learned.lines == []  # but nothing says "you do best after pictures": pictures have no evidence yet



def test_one_content_type_per_item_and_shorter_steps_at_a_slow_pace() -> None:
    from tutormesh.agents.adaptation import item_content, short_steps
    from tutormesh.tools.curriculum import load_curriculum

    row = {"attempts": 3, "streak": 0}
    fresh = {"learning_style": {}, "style_counts": {}}
    assert all(len(item_content("ana", fresh, {}, row, adaptive=True, draw=n)) == 1 for n in range(20))
    assert item_content("ana", fresh, {}, row, adaptive=False, draw=1) == ["text"]
    assert item_content("ana", fresh, {}, {"attempts": 3, "streak": 2}, adaptive=True, draw=1) == []
    item = load_curriculum().subjects["math"].topics[0].template(2).instantiate(7, "A")
    steps = short_steps(item, "en", pace="slow", adaptive=True)
    assert steps is not None and item.hints[0] in steps and steps.startswith("One short step at a time")
    assert short_steps(item, "en", pace="moderate", adaptive=True) is None
    assert short_steps(item, "en", pace="slow", adaptive=False) is None


def test_more_failures_on_a_skill_under_review_do_not_open_another_negotiation() -> None:
    from tutormesh.agents.student import under_agreement

    assert under_agreement([{"skill": "b", "status": "committed"}], "b")
    assert under_agreement([{"skill": "b", "status": "escalated"}], "b")
    assert not under_agreement([{"skill": "b", "status": "kept"}, {"skill": "c", "status": "committed"}], "b")


def test_a_pace_change_is_told_in_the_students_language_with_its_figures() -> None:
    class SlowStore(_Store):
        def recent_engagement(self, student_id: str, *, limit: int = 8) -> list[dict[str, Any]]:
            return [{"correct": False, "seconds": 150.0, "skill": "b", "shown_before": []}] * 6

    profile = {"pace": "moderate", "learning_style": {}, "style_counts": {}, "strengths": [], "weaknesses": []}
    signals = {"shown_before": [], "seconds": 150.0, "idle_s": 0.0, "hints_used": 0, "retry": False, "streak": 0}
    learned = learned_from_answer(profile, {}, signals, False, "es", earlier=SlowStore().recent_engagement("ana"))
    assert learned.lines == ["Ritmo: lento a partir de ahora (0% de aciertos, mediana de 150 s por respuesta en "
                             "las últimas 7)."]
    pace = next(c for c in learned.adaptations if c["kind"] == "pace")
    assert pace["reason"] == "0% right, median 150 s per answer over the last 7"  # staff read the record in English


def test_a_gained_preference_reads_as_one_clause() -> None:
    from tutormesh.tools import learner_model as lm

    change = lm.style_adaptation({k: 0.4 for k in lm.CONTENT_TYPES}, {**{k: 0.4 for k in lm.CONTENT_TYPES},
                                 "visual": 0.7}, {"answers": 5})
    assert change is not None and change.reason.startswith("now prefers visual: P(visual speeds up learning)")

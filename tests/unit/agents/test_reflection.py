"""Reflections: the rules over a session's signals, their words in three languages, and the next session's opening."""

from __future__ import annotations

from typing import Any

import pytest

from tutormesh.agents import adaptation, reflection, understanding
from tutormesh.agents.planner import session_opening
from tutormesh.tools.curriculum import load_curriculum

SKILL = "two-step-equations"


def answer(correct: bool, shown: list[str], **extra: Any) -> dict[str, Any]:
    return {"skill": SKILL, "shown_before": shown, "correct": correct, "reason": "equivalent" if correct else "wrong",
            "seconds": 40.0, "hints_used": 0, "retry": False, **extra}


def test_the_type_before_right_answers_worked_and_leads_next_time() -> None:
    signals = {"answers": [answer(True, ["worked_example"]), answer(True, ["worked_example"]),
                           answer(False, ["text"]), answer(False, ["text"])],
               "mastery": {SKILL: [0.3, 0.45]}, "negotiations": []}
    found = reflection.reflect(signals)
    assert found.answers == 4 and found.right == 2
    assert {"code": "content_worked", "kind": "worked_example", "right": 2, "n": 2} in found.worked
    assert {"code": "content_struggled", "kind": "text", "right": 0, "n": 2} in found.struggled
    assert {"code": "mastery_rose", "skill": SKILL, "before": 0.3, "after": 0.45} in found.worked
    assert found.next_steps["first_content"] == "worked_example"
    assert found.next_steps["first_content_because"] == "content_worked"
    assert found.next_steps["review_skills"] == [SKILL]  # practised twice and still under 50%
    assert reflection.reflect(signals) == found  # deterministic


def test_a_hard_session_with_nothing_that_worked_leads_with_the_first_support_not_tried() -> None:
    signals = {"answers": [answer(False, ["worked_example"], hints_used=1),
                           answer(False, ["worked_example"], retry=True, hints_used=1)],
               "mastery": {SKILL: [0.6, 0.4]}, "negotiations": [{"skill": SKILL, "status": "committed"}]}
    found = reflection.reflect(signals)
    assert found.next_steps["first_content"] == "visual"  # worked examples did not help, so the next support
    assert found.next_steps["first_content_because"] == "struggled"
    codes = [f["code"] for f in found.struggled]
    assert codes == ["content_struggled", "needed_hints", "mastery_fell", "plan_changed"]
    assert found.next_steps["review_skills"] == [SKILL]


def test_a_good_session_changes_nothing() -> None:
    found = reflection.reflect({"answers": [answer(True, []), answer(True, []), answer(True, [])],
                                "mastery": {SKILL: [0.5, 0.9]}, "negotiations": []})
    assert found.struggled == [] and found.next_steps["first_content"] is None
    assert found.next_steps["review_skills"] == []
    assert {"code": "first_try", "right": 3} in found.worked
    assert session_opening({"next_steps": found.next_steps, "worked": found.worked}) is None


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["What worked", "worked examples", "Next time", "start with"]),
    ("es", ["Lo que funcionó", "ejemplos resueltos", "La próxima vez", "empezar con"]),
    ("hi", ["क्या काम आया", "हल किए हुए उदाहरण", "अगली बार", "से शुरू करेंगे"]),
])
def test_the_summary_is_in_the_students_language(language: str, words: list[str]) -> None:
    found = reflection.reflect({"answers": [answer(True, ["worked_example"]), answer(True, ["worked_example"])],
                                "mastery": {}, "negotiations": []})
    text = reflection.render(found, language, load_curriculum(language=language))
    for word in words:
        assert word in text, (word, text)
    assert "{" not in text  # every slot filled


def test_the_opening_names_its_facts_and_the_topic_to_review() -> None:
    found = reflection.reflect({"answers": [answer(True, ["visual"]), answer(True, ["visual"]), answer(False, [])],
                                "mastery": {SKILL: [0.7, 0.6]}, "negotiations": []})
    opening = session_opening({"id": 7, "created_at": "2026-10-05T10:00:00+00:00", "answers": 3, "right": 2,
                               "next_steps": found.next_steps, "worked": found.worked, "struggled": found.struggled})
    assert opening is not None
    assert opening["first_content"] == "visual" and opening["review_topic"] == SKILL
    assert "2 of 2 answers after visual were right -> lead with visual" in opening["reason"]
    assert f"{SKILL}: mastery fell 0.70 -> 0.60 -> review it first" in opening["reason"]


def test_a_chosen_style_beats_the_reflection_and_the_learned_weights() -> None:
    learned = {"style_counts": {"visual": [29.0, 1.0], "text": [1.0, 29.0], "worked_example": [1.0, 29.0],
                                "recap": [1.0, 29.0]}}
    assert adaptation.lead_content("s1", learned, 0) == "visual"
    assert adaptation.lead_content("s1", learned, 0, lead="worked_example") == "worked_example"
    assert adaptation.lead_content("s1", {**learned, "style_override": "text"}, 0, lead="worked_example") == "text"


@pytest.mark.parametrize(("text", "language"), [
    ("bye", "en"), ("that's all for today", "en"), ("Bye!", "en"), ("adiós, hasta mañana", "es"),
    ("hasta luego", "es"), ("अलविदा", "hi"), ("बस आज के लिए इतना ही", "hi"), ("bas aaj ke liye itna hi", "hi"),
])
def test_goodbyes_in_three_languages_end_the_session(text: str, language: str) -> None:
    read = understanding.understand(text, problem_open=True)
    assert read.intent == "goodbye" and not read.is_attempt
    assert understanding.detect_language(text) == language


@pytest.mark.parametrize("text", ["what should we learn for today?", "hola", "thanks", "practice for today"])
def test_greetings_and_plans_for_today_are_not_goodbyes(text: str) -> None:
    assert understanding.understand(text, problem_open=False).intent != "goodbye"

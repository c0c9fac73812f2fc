"""The assessment router: every kind of question, a confidence on each verdict, flags with reasons."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tutormesh.agents import assessment, rubric
from tutormesh.agents.assessment import grade_question

CHOICE = {"kind": "choice", "points": 2, "spec": {"choices": {"a": "14", "b": "20"}, "answer": "a",
                                                  "feedback": {"b": "Multiply before you add."}}}
OPEN = {"kind": "open", "points": 3, "prompt": "How do you solve x + 3 = 5?", "spec": {"rubric": {
    "model_answer": "Subtract 3 from both sides, then check by substituting.",
    "criteria": [
        {"id": "inverse", "description": "Undoes the +3", "points": 2, "keywords": ["subtract|minus|take away"]},
        {"id": "check", "description": "Checks the result", "points": 1, "keywords": ["check|substitut"]},
    ]}}}
CODE = {"kind": "code", "points": 4, "spec": {"tests": "from solution import add\n\ndef test_small():\n"
                                                       "    assert add(2, 3) == 5\n\ndef test_zero():\n"
                                                       "    assert add(0, 0) == 0\n"}}


def test_choice_by_key_or_text_with_distractor_feedback() -> None:
    assert grade_question(CHOICE, " A ").correct
    assert grade_question(CHOICE, "14").score == 2
    wrong = grade_question(CHOICE, "b")
    assert (wrong.correct, wrong.reason, wrong.feedback, wrong.confidence) == (False, "b", "Multiply before you add.",
                                                                                1.0)
    assert grade_question(CHOICE, "c").reason == "not_a_choice"


def test_open_answer_scored_by_rubric_with_a_transparent_explanation() -> None:
    full = grade_question(OPEN, "I would subtract 3 from both sides and then check it.")
    assert full.correct and full.score == 3 and full.grader == "rubric_keywords" and full.flag is None
    assert "Undoes the +3: met" in full.feedback and "found subtract" in full.feedback
    half = grade_question(OPEN, "Take away 3.")
    assert half.score == 2 and half.correct  # 2/3 >= the 0.6 pass ratio
    assert grade_question(OPEN, "No idea").score == 0


def test_low_confidence_open_answer_is_flagged_with_the_reason() -> None:
    verdict = grade_question(OPEN, "You should not subtract 3, and never check.")
    assert verdict.confidence < 0.7
    assert verdict.flag and "negation" in verdict.flag


def test_keyword_stuffing_lowers_confidence() -> None:
    stuffed = "subtract check " * 60
    scored = rubric.keyword_score(rubric.Rubric.model_validate(OPEN["spec"]["rubric"]), stuffed)
    assert scored.total == 3 and scored.confidence < 0.7 and "longer than the model answer" in scored.doubts[0]


def test_code_answers_run_in_the_sandbox() -> None:
    right = grade_question(CODE, "def add(a, b):\n    return a + b\n")
    if right.reason == "sandbox_unavailable":
        pytest.fail(f"the sandbox does not run here: {right.flag}")
    assert (right.correct, right.score, right.grader, right.confidence) == (True, 4, "sandbox", 1.0)
    half = grade_question(CODE, "def add(a, b):\n    return 5\n")
    assert (half.correct, half.score) == (False, 2) and "test_zero" in half.feedback


def test_code_tests_that_cannot_run_are_flagged_not_blamed_on_the_student() -> None:
    broken = {"kind": "code", "points": 2, "spec": {"tests": "from solution import add\nundefined\n\n"
                                                             "def test_a():\n    assert add(1, 1) == 2\n"}}
    verdict = grade_question(broken, "def add(a, b):\n    return a + b\n")
    assert (verdict.reason, verdict.confidence) == ("tests_error", 0.4)
    assert verdict.flag == "the tests themselves could not run"


def test_unsure_symbolic_verdict_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(expected: str, answer: str) -> Any:
        return SimpleNamespace(correct=False, reason="parse_error", feedback="I could not read that.", kind="math")

    monkeypatch.setattr(assessment, "_symbolic", fake)
    verdict = grade_question({"kind": "symbolic", "spec": {"answer": "x = 3"}}, "x equals thre")
    assert verdict.confidence < 0.7 and "parse_error" in str(verdict.flag)


def test_a_crashing_or_unknown_grader_is_flagged_not_raised() -> None:
    assert grade_question({"kind": "essay", "spec": {}}, "...").flag == (
        "the essay grader failed: unknown question kind 'essay'; expected one of ('choice', 'symbolic', 'open', "
        "'code')")
    broken = grade_question({"kind": "choice", "spec": {}}, "a")
    assert broken.reason == "grader_error" and broken.confidence == 0.0


def test_llm_judge_is_used_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert rubric._llm_judge() is None  # no judge model configured: the keyword scorer decides
    monkeypatch.setattr(rubric, "_llm_judge", lambda: lambda **_: {
        "points": {"inverse": 2, "check": 1}, "confidence": 0.9, "feedback": "Clear and checked."})
    judged = grade_question(OPEN, "Subtract 3 on both sides; check by substituting 2.")
    assert (judged.grader, judged.score, judged.feedback, judged.flag) == ("llm_judge", 3, "Clear and checked.", None)
    disagree = grade_question(OPEN, "No idea at all")
    assert disagree.grader == "llm_judge" and disagree.flag and "disagree" in disagree.flag


def test_judge_feedback_with_a_stereotype_is_withheld_for_the_keyword_feedback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rubric, "_llm_judge", lambda: lambda **_: {
        "points": {"inverse": 2, "check": 1}, "confidence": 0.9,
        "feedback": "Good work, even though girls are naturally worse at algebra."})
    judged = grade_question(OPEN, "Subtract 3 on both sides; check by substituting 2.")
    assert judged.score == 3 and "girls" not in judged.feedback
    assert judged.feedback == rubric.keyword_score(rubric.Rubric.model_validate(OPEN["spec"]["rubric"]),
                                                   "Subtract 3 on both sides; check by substituting 2.").feedback
    doubts = rubric.score(OPEN["spec"]["rubric"], "Subtract 3 on both sides; check by substituting 2.").doubts
    assert doubts == ["the LLM judge's feedback was withheld by the guards (stereotype)"]


def test_a_failing_llm_judge_falls_back_to_keywords_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: Any) -> dict[str, Any]:
        raise TimeoutError("LLM endpoint timed out")

    monkeypatch.setattr(rubric, "_llm_judge", lambda: broken)
    verdict = grade_question(OPEN, "Subtract 3 and check.")
    assert verdict.grader == "rubric_keywords" and verdict.score == 3


def test_symbolic_answers_use_the_symbolic_grader() -> None:
    question = {"kind": "symbolic", "points": 2, "spec": {"answer": "x = 3"}}
    right = grade_question(question, "x=3")
    assert (right.correct, right.score, right.confidence, right.grader) == (True, 2, 1.0, "symbolic")
    assert not grade_question(question, "x = 4").correct

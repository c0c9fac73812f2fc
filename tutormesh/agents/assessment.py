"""Assessment agent: one router for every answer, deterministic graders first.

Multiple choice, symbolic math and code tests (in the sandbox) are decided with certainty; open
answers are scored against a rubric. Every verdict carries a confidence, and an answer the graders
are not sure about is flagged for a human with the reason why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from tutormesh.agents import rubric
from tutormesh.tools.curriculum import Item, load_curriculum

log = logging.getLogger(__name__)
KINDS = ("choice", "symbolic", "open", "code")
_UNREADABLE = ("parse_error", "too_complex", "timeout")
_SANDBOX_UNSURE = {"killed": "the sandbox killed the program", "no_tests": "the tests define no test_* function",
                   "tests_error": "the tests themselves could not run"}


class QuestionGrade(BaseModel):
    """The verdict on one answer; `flag` says why a human should look (None: nobody needs to)."""

    correct: bool
    score: float
    max_points: float
    confidence: float
    feedback: str
    reason: str
    kind: str
    grader: str
    flag: str | None = None


def _symbolic(expected: str, answer: str, form: str = "any", language: str = "en") -> Any:
    from tutormesh.tools.grading import grade  # the symbolic grader (sympy) loads on first use

    return grade(expected, answer, form=form, language=language)


def grade_attempt(item: Item, answer: str, language: str = "en") -> dict[str, Any]:
    """Grade `answer` against the item; explain a wrong answer by its misconception when one matches.

    `language` (en, hi, es) is the language of the grader's own feedback; the item's is already localised.
    """
    result = _symbolic(item.answer, answer, item.form, language)
    verdict = {"correct": result.correct, "reason": result.reason, "feedback": result.feedback,
               "kind": result.kind}
    if result.correct or result.reason in (*_UNREADABLE, "empty"):
        return verdict
    for misconception in item.misconceptions:
        if _symbolic(misconception.answer, answer).correct:
            return {**verdict, "reason": "misconception", "feedback": misconception.feedback}
    return verdict


def _choice(spec: Mapping[str, Any], answer: str, points: float) -> QuestionGrade:
    choices: dict[str, str] = {str(k).lower(): str(v) for k, v in dict(spec["choices"]).items()}
    given = answer.strip().lower()
    key = given if given in choices else next((k for k, v in choices.items() if v.strip().lower() == given), None)
    correct_key = str(spec["answer"]).lower()
    if key is None:
        return QuestionGrade(correct=False, score=0.0, max_points=points, confidence=1.0, kind="choice",
                             grader="choice", reason="not_a_choice",
                             feedback=f"Pick one of: {', '.join(sorted(choices))}.")
    correct = key == correct_key
    feedback = dict(spec.get("feedback", {})).get(key) or (
        "Correct." if correct else f"The answer was {correct_key}: {choices[correct_key]}.")
    return QuestionGrade(correct=correct, score=points if correct else 0.0, max_points=points, confidence=1.0,
                         kind="choice", grader="choice", reason="correct" if correct else key, feedback=feedback)


def _math(spec: Mapping[str, Any], answer: str, points: float) -> QuestionGrade:
    result = _symbolic(str(spec["answer"]), answer)
    unsure = result.reason in _UNREADABLE
    flag = f"the symbolic grader could not decide ({result.reason}) on {answer[:80]!r}" if unsure else None
    return QuestionGrade(correct=result.correct, score=points if result.correct else 0.0, max_points=points,
                         confidence=0.3 if unsure else 1.0, kind="symbolic", grader="symbolic",
                         reason=result.reason, feedback=result.feedback, flag=flag)


def _code(spec: Mapping[str, Any], answer: str, points: float) -> QuestionGrade:
    from tutormesh.tools.sandbox import SandboxUnavailable, run_tests

    try:
        result = run_tests(answer, str(spec["tests"]))
    except SandboxUnavailable as exc:
        return QuestionGrade(correct=False, score=0.0, max_points=points, confidence=0.0, kind="code",
                             grader="sandbox", reason="sandbox_unavailable", feedback="Your code is queued for a "
                             "teacher to check.", flag=f"the code sandbox is unavailable, nothing was run: {exc}")
    total = result.passed + result.failed
    share = result.passed / total if total else 0.0
    unsure = _SANDBOX_UNSURE.get(result.verdict)
    failing = [t["name"] for t in result.tests if not t.get("passed")][:3]
    feedback = f"{result.passed}/{total} tests passed. {result.detail}".strip()
    if failing:
        feedback += f" Failing: {', '.join(failing)}."
    return QuestionGrade(correct=result.verdict == "passed", score=round(points * share, 2), max_points=points,
                         confidence=0.4 if unsure else 1.0, kind="code", grader="sandbox", reason=result.verdict,
                         feedback=feedback, flag=unsure)


def _open(spec: Mapping[str, Any], answer: str, points: float, prompt: str) -> QuestionGrade:
    scored = rubric.score(spec["rubric"], answer, question=prompt)
    share = scored.total / scored.max_points
    pass_ratio = float(spec["rubric"].get("pass_ratio", 0.6))
    return QuestionGrade(correct=share >= pass_ratio, score=round(points * share, 2), max_points=points,
                         confidence=scored.confidence, kind="open", grader=scored.grader,
                         reason=f"rubric {scored.total:g}/{scored.max_points:g}", feedback=scored.feedback,
                         flag="; ".join(scored.doubts) or None)


def grade_question(question: Mapping[str, Any], answer: str, *, min_confidence: float = 0.7) -> QuestionGrade:
    """Route an answer to its grader by `kind`; flag it for a human when confidence is low.

    `question` has `kind`, `spec`, `points` and `prompt`. A grader that crashes yields a flagged,
    zero-confidence verdict rather than an exception, so one bad answer never blocks a submission.
    """
    kind, spec, points = question["kind"], question["spec"], float(question.get("points", 1.0))
    try:
        if kind == "choice":
            verdict = _choice(spec, answer, points)
        elif kind == "symbolic":
            verdict = _math(spec, answer, points)
        elif kind == "code":
            verdict = _code(spec, answer, points)
        elif kind == "open":
            verdict = _open(spec, answer, points, str(question.get("prompt", "")))
        else:
            raise ValueError(f"unknown question kind {kind!r}; expected one of {KINDS}")
    except Exception as exc:
        log.exception("grader failed on a %s question", kind)
        return QuestionGrade(correct=False, score=0.0, max_points=points, confidence=0.0, kind=kind, grader=kind,
                             reason="grader_error", feedback="A teacher will check this answer.",
                             flag=f"the {kind} grader failed: {exc}")
    if verdict.confidence < min_confidence and verdict.flag is None:
        verdict.flag = f"confidence {verdict.confidence:.2f} is below {min_confidence:.2f}"
    elif verdict.confidence >= min_confidence:
        verdict.flag = None
    return verdict


def run(state: Mapping[str, Any]) -> dict[str, Any]:
    """Grade `answer` for `item_id` (a curriculum item) or against a literal `expected` answer."""
    answer = state.get("answer", "")
    if state.get("item_id"):
        return {"grade": grade_attempt(load_curriculum().item(state["item_id"]), answer)}
    result = _symbolic(state.get("expected", ""), answer)
    return {"grade": {"correct": result.correct, "reason": result.reason, "feedback": result.feedback,
                      "kind": result.kind}}

"""The 60% rule's in-depth explanation: the missed question solved in checked small steps, not the lesson again."""

from __future__ import annotations

import pytest

from tutormesh.agents import reteach
from tutormesh.tools import solution_steps
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.grading import grade
from tutormesh.tools.grading.guard import GradeTimeout


def _topic(slug: str):  # type: ignore[no-untyped-def]
    return load_curriculum().topic(slug)


@pytest.mark.parametrize(("prompt", "answer"), [
    ("Solve 3x + 4 = 19", "x = 5"),
    ("Solve for x: 5x - 3 = 2x + 9", "x = 4"),
    ("Solve 2(x - 3) = 10", "x = 8"),
    ("Solve -4x + 7 = 19", "x = -3"),
    ("x + 3 = 5, x = ?", "x = 2"),
    ("Solve x^2 - x - 6 = 0", "x = 3 or x = -2"),
    ("Solve x^2 + 5x = -6", "x = -2 or x = -3"),
    ("Compute 2 + 3 * 4", "14"),
    ("Evaluate 7 - 2 × (-3)", "13"),
    ("Evaluate: -3^2 + 4 × (-2)", "-17"),
    ("What is (8 - 2) ÷ 3 + 2^3?", "10"),
])
def test_every_step_of_the_solution_is_checked_and_it_reaches_the_key(prompt: str, answer: str) -> None:
    solution = solution_steps.solve(prompt)
    assert solution is not None, prompt
    assert grade(answer, solution.answer).correct, (solution.answer, answer)
    assert solution_steps.checks(solution)
    for step in solution.steps:  # each line, read back by the grader's parser, keeps the question's answer
        one = solution_steps.Solution(solution.problem, [step], solution.answer)
        assert solution_steps.checks(one), step


@pytest.mark.parametrize(("prompt", "lines"), [
    ("What is (8 - 2) ÷ 3 + 2^3?", ["6 ÷ 3 + 2^3", "6 ÷ 3 + 8", "2 + 8", "10"]),  # brackets, powers, ÷, +
    ("Evaluate: -3^2 + 4 × (-2) + 2^3", ["-9 + 4 × (-2) + 2^3", "-9 + 4 × (-2) + 8", "-9 + (-8) + 8", "-17 + 8",
                                       "-9"]),
    ("Compute 10 - (4 - 3) * 2^2", ["10 - 1 × 2^2", "10 - 1 × 4", "10 - 4", "6"]),
    ("Evaluate: 5 - 2 × 3 - 8", ["5 - 6 - 8", "-1 - 8", "-9"]),  # left to right among equals
])
def test_arithmetic_follows_the_order_of_operations_one_operation_a_line(prompt: str, lines: list[str]) -> None:
    solution = solution_steps.solve(prompt)
    assert solution is not None and [s.line for s in solution.steps] == lines


def test_a_wrong_step_fails_the_check() -> None:
    solution = solution_steps.solve("Solve 3x + 4 = 19")
    assert solution is not None
    broken = solution_steps.Solution(solution.problem, [*solution.steps[:-1], solution_steps.Step("So", "x = 6")],
                                     "x = 6")
    assert not solution_steps.checks(broken)
    sums = solution_steps.solve("Compute 2 + 3 * 4")
    assert sums is not None
    assert not solution_steps.checks(solution_steps.Solution(sums.problem, [solution_steps.Step("Add", "20")], "20"))


def test_no_math_or_unsupported_math_gives_no_solution() -> None:
    assert solution_steps.solve("Explain in words why we balance equations.") is None
    assert solution_steps.solve("Solve x^3 - x = 0") is None  # cubic: not solved here
    assert solution_steps.solve("Solve x + y = 3") is None  # two variables


def test_slips_name_the_mistake_behind_a_wrong_answer() -> None:
    left_to_right = solution_steps.slips("Compute 2 + 3 * 4")
    assert left_to_right[0].answer == "20" and "left to right" in left_to_right[0].mistake
    squared = solution_steps.slips("Evaluate: -3^2 + 4")
    assert any(s.answer == "13" and "minus sign" in s.mistake for s in squared)
    sign = solution_steps.slips("Solve x + 3 = 5")
    assert any(solution_steps.same_answer(s.answer, "8") and "sign" in s.mistake for s in sign)


def test_the_explanation_solves_the_missed_item_in_smaller_steps_than_the_lesson() -> None:
    topic = _topic("two-step-equations")
    text = reteach.in_depth_explanation(topic, prompt="Solve 3x + 4 = 19", wrong_share=0.7,
                                        common_wrong=["x = 23/3", "x = 15"], kind="symbolic",
                                        spec={"answer": "x = 5"})
    lesson = topic.lesson
    assert "3x + 4 = 19" in text and "Answer: x = 5" in text
    assert lesson.explanation.strip() not in text and lesson.worked_example.problem not in text  # not resent
    solution = reteach.checked_solution("Solve 3x + 4 = 19", "x = 5")
    assert solution is not None and len(solution.steps) > len(lesson.worked_example.steps)
    assert "3x + 4 - 4 = 19 - 4" in text  # the operation on both sides, then its result, as separate lines
    assert "It is what you get by moving a number across the = sign without changing its sign" in text
    assert lesson.alternative and lesson.alternative.split()[0] in text and "Another way to see it" in text


def test_a_choice_question_uses_the_teachers_feedback_for_the_most_common_wrong_choice() -> None:
    spec = {"choices": {"a": "14", "b": "20"}, "answer": "a", "feedback": {"b": "You added before multiplying."}}
    text = reteach.in_depth_explanation(_topic("order-of-operations"), prompt="2 + 3 * 4 = ?", wrong_share=0.6,
                                        common_wrong=["b"], kind="choice", spec=spec)
    assert "Answer: 14" in text and "'b' (20)" in text and "You added before multiplying." in text
    without = reteach.in_depth_explanation(_topic("order-of-operations"), prompt="2 + 3 * 4 = ?", wrong_share=0.6,
                                           common_wrong=["20"], kind="choice", spec={**spec, "feedback": {}})
    assert "working left to right" in without


def test_a_key_that_disagrees_with_the_solver_falls_back_to_the_lesson_example() -> None:
    topic = _topic("one-step-equations")
    text = reteach.in_depth_explanation(topic, prompt="Solve x + 3 = 5", wrong_share=0.6, common_wrong=["x = 9"],
                                        kind="symbolic", spec={"answer": "x = 7"})  # a wrong key: show no solution
    assert "this exact question" not in text and topic.lesson.worked_example.problem in text
    assert "Put x = 9 into x + 3 = 5: the left side is 12 and the right side 5, which are not equal." in text


def test_every_existing_topic_has_an_alternative_in_every_language() -> None:
    for language in ("en", "hi", "es"):
        for topic in load_curriculum(language=language).topics():
            if topic.slug in ORIGINAL_TOPICS:
                assert topic.lesson.alternative, (language, topic.slug)
    english = {t.slug: t.lesson.alternative for t in load_curriculum().topics()}
    spanish = {t.slug: t.lesson.alternative for t in load_curriculum(language="es").topics()}
    assert all(spanish[slug] != english[slug] for slug in ORIGINAL_TOPICS)


ORIGINAL_TOPICS = (
    "order-of-operations", "evaluating-expressions", "combining-like-terms", "distributive-property",
    "one-step-equations", "two-step-equations", "variables-both-sides", "literal-equations", "linear-inequalities",
    "absolute-value-equations", "slope", "slope-intercept-form", "line-through-two-points", "systems-of-equations",
    "exponent-rules", "adding-polynomials", "multiplying-polynomials", "factoring-trinomials",
    "quadratics-by-factoring", "simplifying-square-roots", "unit-conversion", "density", "speed",
    "force-and-acceleration", "ohms-law", "electrical-power", "stress", "gear-ratios")


def test_the_solver_runs_under_the_graders_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    limits: list[float] = []

    def out_of_time(work: object, seconds: float) -> None:
        limits.append(seconds)
        raise GradeTimeout("time limit reached")

    monkeypatch.setattr(solution_steps, "run_with_time_limit", out_of_time)
    assert solution_steps.solve("Solve 3x + 4 = 19") is None and solution_steps.slips("Compute 2 + 3 * 4") == []
    assert limits == [solution_steps.TIME_LIMIT_S] * 2  # no solution and no crash when sympy runs long

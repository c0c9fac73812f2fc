"""Symbolic grader: each notation is accepted, and each kind of mistake gets its reason and feedback."""

import pytest

from tutormesh.tools.grading import Grade, grade


def assert_correct(expected: str, answer: str) -> Grade:
    result = grade(expected, answer)
    assert result.correct, (expected, answer, result)
    assert result.reason == "equivalent"
    return result


def assert_wrong(expected: str, answer: str, reason: str) -> Grade:
    result = grade(expected, answer)
    assert not result.correct, (expected, answer, result)
    assert result.reason == reason, (expected, answer, result)
    assert result.feedback
    return result


@pytest.mark.parametrize(
    ("expected", "answer"),
    [
        ("7", "7"),
        ("-12", "-12"),
        ("1000", "1,000"),
        ("3/4", "6/8"),
        ("3/4", "0.75"),
        ("3/4", "75%"),
        ("-2/3", "2/-3"),
        ("1 1/2", "3/2"),
        ("3/2", "1 1/2"),
        ("-1 1/2", "-1.5"),
        ("1 1/2", "1½"),
        ("1/2", "0.5"),
        ("0.5", "1/2"),
        ("1/2", ".5"),
        ("0.001", "1e-3"),
        ("6.02e23", "6.02 × 10^23"),
        ("50%", "0.5"),
        ("0.5", "50%"),
        ("50%", "50"),
        ("5", "5."),
    ],
)
def test_numbers_in_any_notation(expected: str, answer: str) -> None:
    result = assert_correct(expected, answer)
    assert result.kind == "number"


@pytest.mark.parametrize(
    ("expected", "answer"),
    [
        ("-5", "−5"),
        ("x^2", "x²"),
        ("x^-1", "x⁻¹"),
        ("6x", "3 × 2x"),
        ("3/4", "3÷4"),
        ("2sqrt(3)", "2√3"),
        ("sqrt(x+1)", "√(x+1)"),
        ("2pi", "2π"),
        ("x >= 3", "x ≥ 3"),
        ("(3, oo)", "(3, ∞)"),
        ("10", "１０"),
        ("2/3", "⅔"),
    ],
)
def test_unicode_math_symbols(expected: str, answer: str) -> None:
    assert_correct(expected, answer)


@pytest.mark.parametrize(
    ("expected", "answer"),
    [
        ("2x + 6", "2(x+3)"),
        ("x^2 - 1", "(x+1)(x-1)"),
        ("3pi", "3 pi"),
        ("2xy", "2yx"),
        ("x^2", "x**2"),
        ("x/2", "1/2 x"),
        ("sqrt(8)", "2sqrt(2)"),
        ("x^(1/2)", "sqrt(x)"),
        ("sin(2x)", "2sin(x)cos(x)"),
        ("ln(x) + ln(y)", "ln(xy)"),
        ("(x^2 - 1)/(x - 1)", "x + 1"),
    ],
)
def test_expressions_are_compared_by_equivalence(expected: str, answer: str) -> None:
    assert_correct(expected, answer)


@pytest.mark.parametrize(
    ("expected", "answer"),
    [
        ("3/4", "\\frac{3}{4}"),
        ("3/4", "\\dfrac34"),
        ("3/4", "$\\frac{3}{4}$"),
        ("cbrt(2)", "\\sqrt[3]{2}"),
        ("6x", "2 \\cdot 3x"),
        ("2(x+3)", "2\\left(x+3\\right)"),
        ("pi/2", "\\frac{\\pi}{2}"),
        ("x^10", "x^{10}"),
        ("x >= 2", "x \\geq 2"),
        ("1 1/2", "1\\frac{1}{2}"),
        ("{-2, 2}", "\\{-2, 2\\}"),
        ("x = 2 or x = -2", "x = \\pm 2"),
    ],
)
def test_simple_latex(expected: str, answer: str) -> None:
    assert_correct(expected, answer)


@pytest.mark.parametrize(
    ("expected", "answer"),
    [("x = 3", "X = 3"), ("x = 3", "  x   =   3  "), ("pi", "PI"), ("sqrt(2)", "Sqrt( 2 )"), ("x > 3", "X>3")],
)
def test_case_and_whitespace_do_not_matter(expected: str, answer: str) -> None:
    assert_correct(expected, answer)


@pytest.mark.parametrize(
    ("expected", "answer", "kind"),
    [
        ("x = 3", "3", "solution_set"),
        ("x = 3", "3 = x", "solution_set"),
        ("y = 2x + 1", "y = 1 + 2x", "equation"),
        ("y = 2x + 1", "2y = 4x + 2", "equation"),
        ("y = 2x + 1", "2x + 1", "equation"),
        ("x^2 + y^2 = 25", "x^2 + y^2 - 25 = 0", "equation"),
        ("x = 1, y = 2", "y = 2, x = 1", "solution_set"),
    ],
)
def test_equations(expected: str, answer: str, kind: str) -> None:
    assert assert_correct(expected, answer).kind == kind


@pytest.mark.parametrize("answer", ["-2, 2", "{-2, 2}", "x = ±2", "x=2, x=-2", "x = -2 or x = 2", "x = 2, -2", "±2"])
def test_solution_sets_in_any_notation(answer: str) -> None:
    assert assert_correct("x = 2 or x = -2", answer).kind == "solution_set"


@pytest.mark.parametrize(
    ("expected", "answer", "kind"),
    [
        ("x > 3", "(3, oo)", "inequality"),
        ("x > 3", "3 < x", "inequality"),
        ("(3, oo)", "x>3", "interval"),
        ("[2, 5)", "2 <= x < 5", "interval"),
        ("[2, 5)", "x >= 2 and x < 5", "interval"),
        ("-1 <= x < 4", "[-1, 4)", "inequality"),
        ("-1 <= x < 4", "4 > x ≥ -1", "inequality"),
        ("x < -1 or x > 2", "(-∞, -1) ∪ (2, ∞)", "inequality"),
    ],
)
def test_intervals_and_inequalities(expected: str, answer: str, kind: str) -> None:
    assert assert_correct(expected, answer).kind == kind


@pytest.mark.parametrize(
    ("expected", "answer", "feedback"),
    [
        ("7", "-7", "Check the sign: the answer is positive."),
        ("-12", "12", "Check the sign: the answer is negative."),
        ("3x - 2", "2 - 3x", "Check the signs: your answer is the negative of the correct one."),
        ("x = 3", "x = -3", "Check the sign: the answer is positive."),
        ("y = 2x + 1", "y = -2x - 1", "Check the signs on the right-hand side."),
        ("x > 3", "x > -3", "Check the sign of the boundary value -3."),
    ],
)
def test_sign_errors(expected: str, answer: str, feedback: str) -> None:
    assert assert_wrong(expected, answer, "sign_error").feedback == feedback


def test_wrong_variable() -> None:
    result = assert_wrong("x = 3", "y = 3", "wrong_variable")
    assert result.feedback == "Your answer is for y, the question asks for x."
    assert_wrong("x > 3", "y > 3", "wrong_variable")
    assert_wrong("2x + 6", "2y + 6", "wrong_variable")
    assert_wrong("y = 2x + 1", "y = 2t + 1", "wrong_variable")


def test_partial_and_extra_solution_sets() -> None:
    assert assert_wrong("x = 2 or x = -2", "x = 2", "partial_set").feedback == "You found x = 2 but missed x = -2."
    assert assert_wrong("x = 2 or x = -2", "2", "partial_set").feedback == "You found x = 2 but missed x = -2."
    assert assert_wrong("x = 2 or x = -2", "x = 2, x = -2, x = 0", "extra_solutions").feedback == (
        "x = 0 is not a solution."
    )
    assert_wrong("sqrt(9)", "±3", "extra_solutions")
    assert assert_wrong("x = 2 or x = -2", "x = 2 or x = 3", "not_equivalent").feedback == (
        "x = 3 is not a solution, and one solution is missing."
    )


@pytest.mark.parametrize(
    ("expected", "answer", "reason"),
    [
        ("1/3", "0.333", "equivalent"),
        ("sqrt(2)", "1.414", "equivalent"),
        ("pi", "3.14", "equivalent"),
        ("1/3", "33.3%", "equivalent"),
        ("1/3", "0.33", "insufficient_precision"),
        ("1/3", "33%", "insufficient_precision"),
        ("7/8", "0.88", "insufficient_precision"),
        ("1/2", "0.51", "not_equivalent"),
        ("2/3", "0.666", "not_equivalent"),
    ],
)
def test_decimal_precision_rule(expected: str, answer: str, reason: str) -> None:
    result = grade(expected, answer)
    assert (result.reason, result.correct) == (reason, reason == "equivalent")


def test_feedback_for_rounding_and_wrong_values() -> None:
    assert assert_wrong("1/3", "0.33", "insufficient_precision").feedback == (
        "Not precise enough: give at least 3 significant figures."
    )
    exact = "Give the exact value; your answer is rounded."
    assert assert_wrong("7/8", "0.88", "insufficient_precision").feedback == exact
    assert assert_wrong("2/3", "0.666", "not_equivalent").feedback == "Check the rounding of the last digit."
    assert assert_wrong("3/4", "4/3", "not_equivalent").feedback == "Check your fraction: it looks upside down."
    assert "constant term" in assert_wrong("3x - 2", "3x + 2", "not_equivalent").feedback


@pytest.mark.parametrize(("expected", "answer"), [("42", "17+25"), ("3/4", "1/2 + 1/4"), ("1024", "2^10")])
def test_unevaluated_arithmetic_is_not_a_final_number(expected: str, answer: str) -> None:
    assert_wrong(expected, answer, "not_simplified")


@pytest.mark.parametrize(
    ("expected", "answer"), [("x = 3", "2x = 6"), ("x = 1 or x = 5", "(x-1)(x-5) = 0"), ("x > 3", "2x > 6")]
)
def test_unsolved_equations_and_inequalities_are_not_simplified(expected: str, answer: str) -> None:
    assert_wrong(expected, answer, "not_simplified")


@pytest.mark.parametrize(
    ("expected", "answer", "reason"),
    [
        ("(3, oo)", "[3, oo)", "endpoint_inclusion"),
        ("[2, 5)", "[2, 5]", "endpoint_inclusion"),
        ("(3, oo)", "(-oo, 3)", "wrong_direction"),
        ("x < -1 or x > 2", "-1 < x < 2", "wrong_direction"),
        ("[2, 5)", "(5, 2]", "not_equivalent"),
        ("(-oo, -2) ∪ (2, oo)", "x > 2", "partial_set"),
    ],
)
def test_interval_mistakes(expected: str, answer: str, reason: str) -> None:
    assert_wrong(expected, answer, reason)


@pytest.mark.parametrize(
    ("expected", "answer"),
    [
        ("abs(x-5)", "5-x"),
        ("sqrt((x-5)^2)", "5-x"),
        ("abs((x-3)(x-10))", "(x-3)(x-10)"),
        ("abs(x)", "x"),
        ("2x+6", "2x+6+10^-30"),
    ],
)
def test_expressions_equal_only_on_part_of_the_line_are_wrong(expected: str, answer: str) -> None:
    assert not grade(expected, answer).correct


def test_unreadable_answer_key_is_reported_not_raised() -> None:
    result = grade("x = = 3", "3")
    assert (result.correct, result.reason, result.kind) == (False, "invalid_expected", "unknown")


def test_factored_form_is_required_only_when_the_question_asks_for_it() -> None:
    from tutormesh.tools.grading import grade as grade_

    assert grade_("(x+2)(x+3)", "x^2+5x+6").correct  # equivalence alone
    wrong = grade_("(x+2)(x+3)", "x^2+5x+6", form="factored")
    assert not wrong.correct and wrong.reason == "not_factored"
    assert grade_("(x+2)(x+3)", "(x+3)(x+2)", form="factored").correct
    assert grade_("(x+3)^2", "(x+3)(x+3)", form="factored").correct
    assert not grade_("x(x+3)", "x^2 + 3x", form="factored").correct

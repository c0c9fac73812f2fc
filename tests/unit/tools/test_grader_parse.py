"""The safe math parser builds sympy objects directly and explains what it cannot read."""

import pytest
from sympy import Eq, FiniteSet, Integer, Interval, Rational, S, Symbol, sqrt

from tutormesh.tools.grading import MathParseError, parse_math

x, y = Symbol("x"), Symbol("y")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2(x+3)", 2 * x + 6),
        ("(x+1)(x-1)", (x + 1) * (x - 1)),
        ("1 1/2", Rational(3, 2)),
        ("-1 1/2", Rational(-3, 2)),
        ("50%", Rational(1, 2)),
        ("0.125", Rational(1, 8)),
        ("2.5e3", Integer(2500)),
        ("-2^2", Integer(-4)),
        ("2^3^2", Integer(512)),
        ("\\frac{x}{2}", x / 2),
        ("√2x", sqrt(2) * x),
        ("cbrt(-8)", Integer(-2)),
        ("log(100)", Integer(2)),
        ("5!", Integer(120)),
        ("|-3|", Integer(3)),
    ],
)
def test_expressions(text: str, value: object) -> None:
    assert parse_math(text) == value


def test_answer_structures() -> None:
    assert parse_math("y = 2x + 1") == Eq(y, 2 * x + 1, evaluate=False)
    assert parse_math("{-2, 2}") == FiniteSet(-2, 2)
    assert parse_math("2 ± sqrt(3)") == FiniteSet(2 - sqrt(3), 2 + sqrt(3))
    assert parse_math("[2, 5)") == Interval.Ropen(2, 5)
    assert parse_math("(3, ∞)") == Interval.open(3, S.Infinity)
    assert parse_math("no solution") == S.EmptySet


@pytest.mark.parametrize(
    ("text", "reason", "message"),
    [
        ("", "empty", "empty"),
        ("__import__('os')", "parse_error", "character '_'"),
        ("lambda", "parse_error", "word 'lambda'"),
        ("x2", "parse_error", "add an operator"),
        ("1/0", "parse_error", "divides by zero"),
        ("oo + 1", "parse_error", "∞"),
        ("\\input{x}", "parse_error", "\\input"),
        ("9^9^9", "too_complex", "too large"),
        ("1e999999", "too_complex", "too large"),
        ("99999999999!", "too_complex", "Factorials"),
        ("(" * 100 + "1" + ")" * 100, "too_complex", "nested too deeply"),
        ("1" * 501, "too_complex", "too long"),
    ],
)
def test_refusals_explain_themselves(text: str, reason: str, message: str) -> None:
    with pytest.raises(MathParseError) as caught:
        parse_math(text)
    assert caught.value.reason == reason
    assert message in str(caught.value)


def test_parser_never_evaluates_python(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec must never be called")

    monkeypatch.setattr("builtins.eval", refuse)
    monkeypatch.setattr("builtins.exec", refuse)
    assert parse_math("x^2 + 2x + 1 = 0") == Eq(x**2 + 2 * x + 1, 0, evaluate=False)
    with pytest.raises(MathParseError):
        parse_math("__import__('os').system('true')")

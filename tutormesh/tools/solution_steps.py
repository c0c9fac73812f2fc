"""Worked solutions of one concrete question, in small steps, each step checked before it is shown.

`solve(text)` finds the math in a question ("Solve 3x + 4 = 19", "Compute 2 + 3 * 4") and solves it:
a linear or quadratic equation in one variable by doing one thing to both sides at a time (here), or
arithmetic one operation at a time in the order of operations (`arithmetic_steps`). Every line is printed, read back
with the grader's own parser and checked with sympy (an equation keeps the original's solution set,
an expression its value), so a wrong step is never shown: a solution that fails a check is dropped.
`slips` lists the wrong answers typical mistakes give on the same question, so a common wrong
answer can be traced to the mistake behind it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sympy import Eq, Expr, Poly, S, Symbol, expand, factor, factor_list, solveset
from sympy.polys.polyerrors import BasePolynomialError

from tutormesh.tools import arithmetic_steps
from tutormesh.tools.grading import MathParseError, grade, parse_math
from tutormesh.tools.grading.feedback import show
from tutormesh.tools.grading.guard import GradeTimeout, run_with_time_limit

# A run of math in a sentence: numbers, one-letter variables, operators, brackets, '='.
_MATH = re.compile(r"(?:\d+(?:\.\d+)?|(?<![A-Za-z])[a-z](?![A-Za-z])|[-+*/×÷·^()=−]|[ \t])+")
_MAX_STEPS = 24
# What a question the solver cannot handle raises on the way (sympy's polynomial errors included).
_CANNOT = (MathParseError, ValueError, TypeError, ZeroDivisionError, SyntaxError, RecursionError, BasePolynomialError,
           GradeTimeout)
TIME_LIMIT_S = 2.0  # sympy on a teacher's prompt, in a grading task: the grader's watchdog bounds it
T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """One line of a worked solution: what to do, and the line that results (checked)."""

    say: str
    line: str


@dataclass(frozen=True)
class Solution:
    """The problem as found in the question, its steps and the final answer."""

    problem: str
    steps: list[Step]
    answer: str


@dataclass(frozen=True)
class Slip:
    """A typical mistake on this problem and the wrong answer it leads to."""

    answer: str
    mistake: str


def find_math(text: str) -> str | None:
    """The longest run of math in a question (an equation when there is one); None when there is none."""
    runs = [m.group(0).strip().rstrip("=").strip() for m in _MATH.finditer(text)]
    runs = [r for r in runs if re.search(r"\d", r) and re.search(r"[-+*/×÷·^=−]", r)]
    equations = [r for r in runs if "=" in r and re.search(r"[a-z]", r)]
    pool = equations or [r for r in runs if "=" not in r]
    return max(pool, key=len) if pool else None


def solve(text: str) -> Solution | None:
    """Solve the math in `text` step by step; None when there is none, or it is not a kind solved here."""
    problem = find_math(text)
    if problem is None:
        return None

    def work() -> Solution:
        if "=" in problem:
            return _equation(problem)
        steps = [Step(say, line) for say, line in arithmetic_steps.solve(problem, _MAX_STEPS)]
        return Solution(problem, steps, steps[-1].line)

    return _limited(work, None)


def checks(solution: Solution) -> bool:
    """Re-check every line of a solution against its problem (what `solve` did before returning it)."""

    def work() -> bool:
        if "=" in solution.problem:
            lhs, rhs = _sides(solution.problem)
            var = _variable(lhs, rhs)
            want = solveset(Eq(lhs, rhs), var, S.Reals)
            return all(_same_solutions(step.line, var, want) for step in solution.steps)
        value = arithmetic_steps.value(solution.problem)
        return all(arithmetic_steps.equal(arithmetic_steps.value(step.line), value) for step in solution.steps)

    return _limited(work, False)


def slips(text: str) -> list[Slip]:
    """Wrong answers that typical mistakes give on the math in `text` (first: the most typical)."""
    problem = find_math(text)
    if problem is None:
        return []

    def work() -> list[Slip]:
        if "=" in problem:
            return _equation_slips(problem)
        return [Slip(answer, mistake) for answer, mistake in arithmetic_steps.slips(problem)]

    return _limited(work, [])


def same_answer(expected: str, answer: str) -> bool:
    """Whether the grader takes `answer` as `expected` (a bare number also matches "x = number")."""
    if grade(expected, answer).correct:
        return True
    if "=" in expected and "=" not in answer:
        return grade(expected.split("=", 1)[1], answer).correct
    return False


def substitute(text: str, answer: str) -> str | None:
    """For an equation in `text`, show that `answer` does not fit: both sides' values with it put in."""
    problem = find_math(text)
    if problem is None or "=" not in problem:
        return None

    def work() -> str | None:
        lhs, rhs = _sides(problem)
        var = _variable(lhs, rhs)
        value = _expr(answer.split("=", 1)[1] if "=" in answer else answer)
        left, right = lhs.subs(var, value), rhs.subs(var, value)
        if not (left.is_number and right.is_number) or arithmetic_steps.equal(left, right):
            return None
        return (f"Put {var} = {show(value)} into {problem}: the left side is {show(left)} and the right side "
                f"{show(right)}, which are not equal.")

    return _limited(work, None)


def _limited(work: Callable[[], T], fallback: T) -> T:
    """Run `work` under the time limit; `fallback` when it fails or runs out of time."""
    try:
        return run_with_time_limit(work, TIME_LIMIT_S)
    except _CANNOT:
        return fallback


# -- equations -----------------------------------------------------------------------------------
def _sides(problem: str) -> tuple[Expr, Expr]:
    left, _, right = problem.partition("=")
    return _expr(left), _expr(right)


def _expr(text: str) -> Expr:
    parsed = parse_math(text)
    if not isinstance(parsed, Expr):
        raise ValueError(f"not an expression: {text!r}")
    return parsed


def _variable(lhs: Expr, rhs: Expr) -> Symbol:
    found = sorted((lhs - rhs).free_symbols, key=str)
    if len(found) != 1 or not isinstance(found[0], Symbol):
        raise ValueError("one variable wanted")
    return found[0]


def _same_solutions(line: str, var: Symbol, want: Any) -> bool:
    got: set[Any] = set()
    for part in line.split(" or "):
        lhs, rhs = _sides(part.strip())
        got |= set(solveset(Eq(lhs, rhs), var, S.Reals))
    return got == set(want)


def _both(op: str, amount: Expr, lhs: Expr, rhs: Expr) -> str:
    return f"{show(lhs)} {op} {_term(amount)} = {show(rhs)} {op} {_term(amount)}"


def _term(amount: Expr) -> str:
    text = show(amount)
    return f"({text})" if text.startswith("-") or "/" in text else text


def _equation(problem: str) -> Solution:
    lhs, rhs = _sides(problem)
    var = _variable(lhs, rhs)
    want = solveset(Eq(lhs, rhs), var, S.Reals)
    degree = Poly(expand(lhs - rhs), var).degree()
    steps = _linear(lhs, rhs, var) if degree == 1 else _quadratic(lhs, rhs, var) if degree == 2 else None
    if steps is None or len(steps) > _MAX_STEPS:
        raise ValueError("not a linear or quadratic equation")
    for step in steps:
        if not _same_solutions(step.line, var, want):
            raise ValueError(f"step failed its check: {step.line}")
    return Solution(problem, steps, steps[-1].line)


def _linear(lhs: Expr, rhs: Expr, var: Symbol) -> list[Step]:
    steps: list[Step] = []
    if expand(lhs) != lhs or expand(rhs) != rhs:
        lhs, rhs = expand(lhs), expand(rhs)
        steps.append(Step("Multiply out the brackets (each term inside times the number outside)",
                          f"{show(lhs)} = {show(rhs)}"))
    a_right = Poly(rhs, var).coeff_monomial(var)
    if a_right != 0:
        move = a_right * var
        op, shown = ("-", move) if a_right > 0 else ("+", -move)
        verb = "Take" if op == "-" else "Add"
        steps.append(Step(f"{verb} {show(shown)} {'away from' if op == '-' else 'to'} both sides, so {var} is on "
                          "the left only", _both(op, shown, lhs, rhs)))
        lhs, rhs = expand(lhs - move), expand(rhs - move)
        steps.append(Step("Tidy each side", f"{show(lhs)} = {show(rhs)}"))
    constant = Poly(lhs, var).coeff_monomial(1)
    if constant != 0:
        op, amount = ("-", constant) if constant > 0 else ("+", -constant)
        verb, undone = ("Subtract", "+") if op == "-" else ("Add", "-")
        steps.append(Step(f"{verb} {show(amount)} on both sides, to undo the {undone} {show(amount)} next to the "
                          f"{var} term", _both(op, amount, lhs, rhs)))
        lhs, rhs = expand(lhs - constant), expand(rhs - constant)
        steps.append(Step("Tidy each side", f"{show(lhs)} = {show(rhs)}"))
    coefficient = Poly(lhs, var).coeff_monomial(var)
    if coefficient != 1:
        steps.append(Step(f"Divide both sides by {show(coefficient)}, to undo the multiplication",
                          f"{_over(lhs, coefficient)} = {_over(rhs, coefficient)}"))
        lhs, rhs = expand(lhs / coefficient), expand(rhs / coefficient)
    if not steps or steps[-1].line != f"{var} = {show(rhs)}":
        steps.append(Step("So", f"{var} = {show(rhs)}"))
    return steps


def _over(side: Expr, by: Expr) -> str:
    return f"({show(side)})/{_term(by)}"


def _quadratic(lhs: Expr, rhs: Expr, var: Symbol) -> list[Step] | None:
    steps: list[Step] = []
    if rhs != 0:
        steps.append(Step("Bring every term to the left, so the right side is 0",
                          f"{show(lhs)} - ({show(rhs)}) = 0"))
    zero = expand(lhs - rhs)
    steps.append(Step("Tidy into the form a·x^2 + b·x + c = 0", f"{show(zero)} = 0"))
    _, factors = factor_list(zero)
    linear = [f for f, _ in factors if Poly(f, var).degree() == 1]
    if not linear or sum(Poly(f, var).degree() * k for f, k in factors) != 2:
        return None
    steps.append(Step("Factor the left side", f"{show(factor(zero))} = 0"))
    roots = sorted({r for f in linear for r in solveset(Eq(f, 0), var, S.Reals)}, key=float)
    steps.append(Step("A product is 0 only when one of its factors is 0",
                      " or ".join(f"{show(f)} = 0" for f in linear)))
    steps.append(Step("Solve each one", " or ".join(f"{var} = {show(r)}" for r in roots)))
    return steps


def _equation_slips(problem: str) -> list[Slip]:
    lhs, rhs = _sides(problem)
    var = _variable(lhs, rhs)
    if Poly(expand(lhs - rhs), var).degree() != 1:
        return []
    lhs, rhs = expand(lhs), expand(rhs)
    a = Poly(lhs - rhs, var).coeff_monomial(var)
    c_left, c_right = Poly(lhs, var).coeff_monomial(1), Poly(rhs, var).coeff_monomial(1)
    right = (c_right - c_left) / a
    found = [Slip(f"{var} = {show((c_right + c_left) / a)}", "moving a number across the = sign without "
                  "changing its sign (to undo + you subtract, to undo - you add)"),
             Slip(f"{var} = {show((c_right - c_left) * a)}", "multiplying by the number in front of the "
                  f"{var} instead of dividing by it"),
             Slip(f"{var} = {show(-right)}", "losing a minus sign on the way")]
    return [s for s in found if not same_answer(f"{var} = {show(right)}", s.answer)]

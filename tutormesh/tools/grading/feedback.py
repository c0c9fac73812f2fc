"""Short, specific messages for students, and the math printer they use."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sympy import S, Symbol, sstr
from sympy.core.expr import Expr

from tutormesh.tools.grading.notation import Value

CORRECT = "Correct."
CORRECT_ROUNDED = "Correct (rounded to enough significant figures)."
NOT_SIMPLIFIED = "Work out the final value: your answer still has a calculation in it."
EXACT_NEEDED = "Give the exact value; your answer is rounded."
MORE_FIGURES = "Not precise enough: give at least 3 significant figures."
SIGN_NUMBER = "Check the sign: the answer is {sign}."
SIGN = "Check the signs: your answer is the negative of the correct one."
WRONG_VALUE = "That isn't the correct value."
TRUNCATED = "Check the rounding of the last digit."
RECIPROCAL = "Check your fraction: it looks upside down."
PERCENT = "Check the conversion: a percentage p% means p/100."
DECIMAL_POINT = "Check the position of the decimal point."
WRONG_EXPRESSION = "Your expression is not equivalent to the correct one."
OFF_BY_CONSTANT = "Close: your expression is off by a constant. Check the constant term."
OFF_BY_FACTOR = "Close: your expression is off by a constant factor. Check the coefficients."
WRONG_EQUATION = "Your equation is not equivalent to the correct one."
WANT_NUMBER = "The answer is a single number."
WANT_EXPRESSION = "The answer is a single expression."
NOT_FACTORED = "That is equivalent, but the question asks for it factored: write it as a product of factors."
WANT_EQUATION = "The answer is an equation, like y = ..."
WANT_VALUES = "List the solutions, for example x = 1, x = 2, rather than a range."
WANT_RANGE = "The answer is a range of values: write an inequality or an interval."
SOLUTIONS_EXIST = "There is at least one solution; check your work."
REVERSED = "Write each interval with the smaller number first, like (a, b) with a < b."
DIRECTION = "Check the direction of the inequality sign."
BOUNDARY = "Check the boundary values."
PART_OF_RANGE = "Your answer covers only part of the solution."
SIGN_BOUNDARY = "Check the sign of the boundary value {value}."
UNSOLVED_RANGE = "Solve the inequality: write {var} on its own on one side."
FINISH_RANGE = "Finish solving: get {var} on its own on one side."
FINISH_EQUATION = "Finish solving: write the answer as {var} = ...."
SOLVE_FOR = "Solve for {var}: give the value(s) of {var}."
TIMEOUT = "I couldn't check this answer in time. Try writing it more simply."
INVALID_EXPECTED = "This question's answer key couldn't be read, so I can't check your answer."
INTERNAL = "Something went wrong while checking your answer."


def show(expr: Expr) -> str:
    """Print `expr` the way a student would type it: 2x, x^2, sqrt(2), -1/2."""
    if expr is S.Infinity:
        return "∞"
    if expr is S.NegativeInfinity:
        return "-∞"
    try:
        text = sstr(expr)
    except ValueError:  # integers too long to print
        return "that value"
    text = text.replace("**", "^").replace("exp(1)", "e").replace("E", "e")
    return re.sub(r"(\d)\*(?=[a-zA-Z(])", r"\1", text)


def show_value(value: Value) -> str:
    """Print a value as it was written, or with `show` if it was generated."""
    return value.text if value.text and "±" not in value.text else show(value.expr)


def assignment(var: Symbol | None, value: Value) -> str:
    """Return "x = 3", or just "3" when no variable was named."""
    return f"{var} = {show_value(value)}" if var is not None else show_value(value)


def listing(items: Sequence[str]) -> str:
    """Join items as "a", "a and b" or "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def partial(var: Symbol | None, found: Sequence[Value], missing: Sequence[Value]) -> str:
    """Say which solutions were found and which are missing."""
    have = listing([assignment(var, v) for v in found])
    if len(missing) == 1:
        return f"You found {have} but missed {assignment(var, missing[0])}."
    return f"You found {have} but there are {len(missing)} more solutions."


def extra(var: Symbol | None, wrong: Sequence[Value], missing_count: int = 0) -> str:
    """Say which values are not solutions (and whether some are missing)."""
    names = listing([assignment(var, v) for v in wrong])
    verb = "is not a solution" if len(wrong) == 1 else "are not solutions"
    if missing_count:
        more = "one solution is missing" if missing_count == 1 else f"{missing_count} solutions are missing"
        return f"{names} {verb}, and {more}."
    return f"{names} {verb}."


def wrong_variable(used: Sequence[Symbol], wanted: Sequence[Symbol]) -> str:
    """Say the answer is written for the wrong variable(s)."""
    have, want = listing([str(s) for s in used]), listing([str(s) for s in wanted])
    return f"Your answer is for {have}, the question asks for {want}."


def inclusion(value: Value, closed: bool) -> str:
    """Say whether an interval end should be included."""
    should = "should be included" if closed else "should not be included"
    return f"Check the endpoint {show_value(value)}: it {should}."

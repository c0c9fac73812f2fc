"""Compare one expected value with one given value: equal, rounded, negated, or how it differs."""

from __future__ import annotations

from sympy import S
from sympy.core.expr import Expr

from tutormesh.tools.grading import feedback as fb
from tutormesh.tools.grading import guard, numeric
from tutormesh.tools.grading.notation import Approx, Value

Outcome = tuple[str, str]  # (reason, feedback)
EQUIVALENT: Outcome = ("equivalent", fb.CORRECT)
ACCEPTED = ("equal", "rounded")
MATCHED = ("equal", "rounded", "imprecise", "unsimplified")


def match(e: Value, a: Value) -> str:
    """Classify how answer value `a` relates to expected value `e`.

    Returns:
        "equal"; "rounded" (a decimal correctly rounded to >= 3 s.f.); "imprecise" (rounded too
        coarsely); "unsimplified" (an unevaluated calculation for a plain number); "negated";
        or a kind of wrong: "truncated" (last digit not rounded), "offset", "scaled", "different".
    """
    guard.check()
    ee, aa = e.expr, a.expr
    relation = numeric.relate(ee, aa)
    if relation == "equal":
        if e.numeral and ee.is_Rational and not a.numeral and not aa.free_symbols:
            return "unsimplified"
        return "equal"
    if e.percent_of is not None and a.numeral and aa == e.percent_of:
        return "equal"  # "What percent...?" answered 50 for 50%
    if not ee.free_symbols and not aa.free_symbols and a.approx is not None:
        rounded = _rounding(ee, aa, a.approx)
        if rounded is not None:
            return rounded
        if not ee.is_zero and _rounding(-ee, aa, a.approx) is not None:
            return "negated"
        if not numeric.terminating(ee) and numeric.within_rounding(ee, aa, a.approx.dp, units=1):
            return "truncated"
    return "negated" if relation == "negated" and not ee.is_zero else relation


def _rounding(value: Expr, literal: Expr, approx: Approx) -> str | None:
    exact_decimal = numeric.terminating(value)
    if exact_decimal and not approx.decimal:
        return None  # an integer compared with an exact value: no rounding involved
    if not numeric.within_rounding(value, literal, approx.dp):
        return None
    if exact_decimal:
        return "imprecise"  # the exact decimal exists, so rounding it loses marks
    return "rounded" if approx.sig >= 3 else "imprecise"


def value_outcome(e: Value, a: Value, m: str | None = None) -> Outcome:
    """Turn a `match` result for one value into (reason, feedback)."""
    m = m or match(e, a)
    if m == "equal":
        return EQUIVALENT
    if m == "rounded":
        return ("equivalent", fb.CORRECT_ROUNDED)
    if m == "imprecise":
        return ("insufficient_precision", fb.EXACT_NEEDED if numeric.terminating(e.expr) else fb.MORE_FIGURES)
    if m == "unsimplified":
        return ("not_simplified", fb.NOT_SIMPLIFIED)
    if m == "negated":
        if not e.expr.free_symbols and numeric.is_real_constant(e.expr):
            sign = "positive" if numeric.compare_constants(e.expr, S.Zero) > 0 else "negative"
            return ("sign_error", fb.SIGN_NUMBER.format(sign=sign))
        return ("sign_error", fb.SIGN)
    return ("not_equivalent", hint(e.expr, a.expr, m))


def hint(e: Expr, a: Expr, m: str) -> str:
    """Explain a wrong value or expression as specifically as is cheap to do."""
    hints = {"truncated": fb.TRUNCATED, "offset": fb.OFF_BY_CONSTANT, "scaled": fb.OFF_BY_FACTOR}
    if m in hints:
        return hints[m]
    if e.free_symbols or a.free_symbols:
        return fb.WRONG_EXPRESSION
    if e.is_Rational and a.is_Rational and e and a:
        ratio = a / e
        if a == 1 / e:
            return fb.RECIPROCAL
        if ratio == 100:
            return fb.PERCENT
        if ratio > 0 and _power_of_ten(ratio):
            return fb.DECIMAL_POINT
    return fb.WRONG_VALUE


def _power_of_ten(ratio: Expr) -> bool:
    for n in (ratio, 1 / ratio):
        if n.is_Integer and n > 1 and str(n).strip("0") == "1":
            return True
    return False

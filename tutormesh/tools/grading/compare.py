"""Compare a student's answer with the expected one, kind by kind, and explain the difference."""

from __future__ import annotations

from sympy import fraction, preorder_traversal, together
from sympy.core.expr import Expr

from tutormesh.tools.grading import compare_sets, numeric
from tutormesh.tools.grading import feedback as fb
from tutormesh.tools.grading.kinds import (
    Answer,
    EquationAns,
    EquationsAns,
    ExprAns,
    NumberAns,
    RealSetAns,
    SolutionsAns,
    SystemAns,
    UnsolvedAns,
)
from tutormesh.tools.grading.notation import Value
from tutormesh.tools.grading.values import ACCEPTED, EQUIVALENT, MATCHED, Outcome, hint, match, value_outcome


def compare(expected: Answer, answer: Answer, *, form: str = "any") -> Outcome:
    """Grade `answer` against `expected`; return (reason, feedback)."""
    if isinstance(expected, NumberAns):
        return _number(expected.value, answer)
    if isinstance(expected, ExprAns):
        return _expression(expected.value, answer, factored=form == "factored")
    if isinstance(expected, EquationAns):
        return _equation(expected, answer)
    if isinstance(expected, EquationsAns):
        return _equations(expected, answer)
    if isinstance(expected, SolutionsAns):
        return compare_sets.solutions(expected, answer)
    if isinstance(expected, SystemAns):
        return compare_sets.system(expected, answer)
    if isinstance(expected, RealSetAns):
        return compare_sets.realset(expected, answer)
    if isinstance(answer, UnsolvedAns) and answer.relation == expected.relation:
        return EQUIVALENT
    return ("not_equivalent", fb.BOUNDARY)


def _number(e: Value, answer: Answer) -> Outcome:
    if isinstance(answer, NumberAns):
        return value_outcome(e, answer.value)
    if isinstance(answer, SolutionsAns) and len(answer.values) == 1:
        return value_outcome(e, answer.values[0])
    if isinstance(answer, SolutionsAns) and answer.values:
        if any(match(e, v) in ACCEPTED for v in answer.values):
            return ("extra_solutions", "Give just one value: the answer is a single number.")
        return ("not_equivalent", fb.WRONG_VALUE)
    if isinstance(answer, ExprAns):
        names = fb.listing(sorted(str(s) for s in answer.value.expr.free_symbols))
        return ("not_equivalent", f"{fb.WANT_NUMBER} Yours still contains {names}.")
    return ("not_equivalent", fb.WANT_NUMBER)


def _single_expression(e: Value, answer: Answer) -> Value | None:
    """Return the answer's expression if it is one (or `y = expression` with a new name y)."""
    if isinstance(answer, NumberAns | ExprAns):
        return answer.value
    explicit = answer.explicit if isinstance(answer, EquationAns) else None
    if explicit is not None and explicit[0] not in e.expr.free_symbols:
        return explicit[1]
    return None


def _expression(e: Value, answer: Answer, *, factored: bool = False) -> Outcome:
    a = _single_expression(e, answer)
    if a is None:
        return ("not_equivalent", fb.WANT_EXPRESSION)
    m = match(e, a)
    if m in ("different", "offset", "scaled"):
        renamed = _renamed(e.expr, a.expr)
        if renamed is not None:
            return renamed
    if factored and (m in ACCEPTED or m == "unsimplified") and not _factored(a.expr):
        return ("not_factored", fb.NOT_FACTORED)
    if m == "unsimplified":
        return EQUIVALENT  # otherwise form is not checked for expressions
    return value_outcome(e, a, m)


def _factored(expr: Expr) -> bool:
    """True for a product of two or more non-constant factors, or a power of a sum: (x+1)(x-2), (x+3)^2."""
    if expr.is_Pow:
        return bool(expr.base.is_Add and expr.base.free_symbols and expr.exp.is_Integer and expr.exp > 1)
    if expr.is_Mul:
        factors = [f for f in expr.args if f.free_symbols and not (f.is_Pow and f.exp.is_negative)]
        return len(factors) >= 2 or any(_factored(f) for f in factors)
    return False


def _renamed(e: Expr, a: Expr) -> Outcome | None:
    """Detect the right answer written with other variable names (2y + 6 for 2x + 6)."""
    wanted = sorted(e.free_symbols - a.free_symbols, key=str)
    used = sorted(a.free_symbols - e.free_symbols, key=str)
    if not used:
        return None
    if len(wanted) == len(used) and numeric.equal(e, a.xreplace(dict(zip(used, wanted, strict=True)))):
        return ("wrong_variable", fb.wrong_variable(used, wanted))
    names = fb.listing([str(s) for s in used])
    return ("not_equivalent", f"Your answer uses {names}, which the question doesn't.")


def _numerator(expr: Expr) -> Expr:
    """Clear denominators that contain variables, so x/y = 2 and x = 2y compare equal."""
    if any(n.is_Pow and n.exp.is_negative and n.base.free_symbols for n in preorder_traversal(expr)):
        return fraction(together(expr))[0]
    return expr


def _same_equation(e: EquationAns, a: EquationAns) -> bool:
    f = _numerator(e.lhs.expr - e.rhs.expr)
    g = _numerator(a.lhs.expr - a.rhs.expr)
    if not f.free_symbols or not g.free_symbols:
        return False
    return numeric.sample([f, g]).proportional(0, 1)


def _equation(e: EquationAns, answer: Answer) -> Outcome:
    explicit = e.explicit
    if isinstance(answer, SolutionsAns) and answer.var is not None and len(answer.values) == 1:
        answer = EquationAns(Value(answer.var, str(answer.var)), answer.values[0])
    if isinstance(answer, NumberAns | ExprAns) and explicit is not None:
        return _expression(explicit[1], answer)  # "2x + 1" for "y = 2x + 1"
    if not isinstance(answer, EquationAns):
        return ("not_equivalent", fb.WANT_EQUATION)
    if _same_equation(e, answer):
        return EQUIVALENT
    f = e.lhs.expr - e.rhs.expr
    g = answer.lhs.expr - answer.rhs.expr
    wanted = sorted(f.free_symbols - g.free_symbols, key=str)
    used = sorted(g.free_symbols - f.free_symbols, key=str)
    if used and len(used) == len(wanted):
        renamed = {k: v for k, v in zip(used, wanted, strict=True)}
        swapped = EquationAns(Value(answer.lhs.expr.xreplace(renamed)), Value(answer.rhs.expr.xreplace(renamed)))
        if _same_equation(e, swapped):
            return ("wrong_variable", fb.wrong_variable(used, wanted))
    theirs = answer.explicit
    if explicit is not None and theirs is not None and explicit[0] == theirs[0]:
        m = match(explicit[1], theirs[1])
        if m == "negated":
            return ("sign_error", "Check the signs on the right-hand side.")
        if m in MATCHED:
            return value_outcome(explicit[1], theirs[1], m)
        return ("not_equivalent", hint(explicit[1].expr, theirs[1].expr, m).replace("expression", "equation"))
    if used:
        names = fb.listing([str(s) for s in used])
        return ("not_equivalent", f"Your equation uses {names}, which the question doesn't.")
    return ("not_equivalent", fb.WRONG_EQUATION)


def _equations(e: EquationsAns, answer: Answer) -> Outcome:
    theirs = list(answer.equations) if isinstance(answer, EquationsAns) else [answer]
    if len(theirs) == len(e.equations) and all(isinstance(t, EquationAns) for t in theirs):
        unmatched = list(theirs)
        for eq in e.equations:
            hit = next((t for t in unmatched if _same_equation(eq, t)), None)  # type: ignore[arg-type]
            if hit is None:
                break
            unmatched.remove(hit)
        else:
            return EQUIVALENT
    return ("not_equivalent", "Check each equation: at least one is not equivalent to the correct one.")



"""Compare answers that are sets: solution lists, systems, intervals and inequalities."""

from __future__ import annotations

from sympy import S, Symbol, sqf_part

from tutormesh.tools.grading import feedback as fb
from tutormesh.tools.grading import numeric
from tutormesh.tools.grading import realsets as rs
from tutormesh.tools.grading.kinds import (
    Answer,
    EquationAns,
    ExprAns,
    NumberAns,
    RealSetAns,
    SolutionsAns,
    SystemAns,
    UnsolvedAns,
)
from tutormesh.tools.grading.notation import Value
from tutormesh.tools.grading.values import EQUIVALENT, MATCHED, Outcome, match, value_outcome


def solutions(e: SolutionsAns, answer: Answer) -> Outcome:
    """Compare against expected solutions of one variable."""
    var: Symbol | None
    values: tuple[Value, ...]
    if isinstance(answer, ExprAns) and not any(v.expr.free_symbols for v in e.values):
        return ("not_equivalent", f"Give the value of {e.var or 'the unknown'} as a number, not an expression.")
    if isinstance(answer, NumberAns | ExprAns):
        var, values = None, (answer.value,)
    elif isinstance(answer, SolutionsAns):
        var, values = answer.var, answer.values
    elif isinstance(answer, EquationAns) and answer.explicit is not None:
        var, values = answer.explicit[0], (answer.explicit[1],)
    elif isinstance(answer, EquationAns):
        return _unsolved_equation(e, answer)
    elif isinstance(answer, RealSetAns | UnsolvedAns):
        return ("not_equivalent", fb.WANT_VALUES)
    else:
        return ("not_equivalent", "Give the solutions as x = ... (one value per solution).")
    if e.var is not None and var is not None and var != e.var:
        return ("wrong_variable", fb.wrong_variable([var], [e.var]))
    return match_sets(e.values, values, e.var or var)


def match_sets(expected: tuple[Value, ...], given: tuple[Value, ...], var: Symbol | None) -> Outcome:
    """Compare two finite sets of values, reporting partial sets, extra and wrong solutions."""
    unique: list[Value] = []
    for v in given:
        if not any(numeric.equal(v.expr, u.expr) for u in unique):
            unique.append(v)
    found: dict[int, str] = {}
    used: set[int] = set()
    for i, ev in enumerate(expected):
        for j, av in enumerate(unique):
            if j not in used:
                m = match(ev, av)
                if m in MATCHED:
                    found[i] = m
                    used.add(j)
                    break
    missing = [ev for i, ev in enumerate(expected) if i not in found]
    extra = [av for j, av in enumerate(unique) if j not in used]
    if not missing and not extra:
        if "imprecise" in found.values():
            return ("insufficient_precision", fb.MORE_FIGURES)
        if "unsimplified" in found.values():
            return ("not_simplified", fb.NOT_SIMPLIFIED)
        return ("equivalent", fb.CORRECT_ROUNDED if "rounded" in found.values() else fb.CORRECT)
    if not unique:
        return ("not_equivalent", fb.SOLUTIONS_EXIST)
    if not extra:
        return ("partial_set", fb.partial(var, [unique[j] for j in sorted(used)], missing))
    if not missing:
        return ("extra_solutions", fb.extra(var, extra))
    if len(expected) == len(unique) == 1:
        m = match(expected[0], unique[0])
        if m != "different":
            return value_outcome(expected[0], unique[0], m)  # sign, rounding: say what went wrong
    elif not used and len(unique) == len(expected) and all(
        any(match(ev, av) == "negated" for ev in expected) for av in unique
    ):
        return ("sign_error", "Check the signs of your solutions.")
    return ("not_equivalent", fb.extra(var, extra, len(missing) if used else 0))


def _unsolved_equation(e: SolutionsAns, answer: EquationAns) -> Outcome:
    """An equation given where solutions are expected: "2x = 6" for "x = 3"."""
    f = answer.lhs.expr - answer.rhs.expr
    var = e.var or (next(iter(f.free_symbols)) if len(f.free_symbols) == 1 else None)
    if var is None or f.free_symbols != {var}:
        return ("not_equivalent", fb.SOLVE_FOR.format(var=var or "the unknown"))
    poly = f.as_poly(var)
    if poly is not None and (poly.domain.is_QQ or poly.domain.is_ZZ) and poly.degree() <= 6:
        roots = sqf_part(poly).degree()
        if roots == len(e.values) and all(numeric.equal(f.xreplace({var: v.expr}), S.Zero) for v in e.values):
            return ("not_simplified", fb.FINISH_EQUATION.format(var=var))
    return ("not_equivalent", fb.SOLVE_FOR.format(var=var))


def system(e: SystemAns, answer: Answer) -> Outcome:
    """Compare against one value for each of several variables."""
    wanted = dict(e.assignments)
    names = sorted(wanted, key=str)
    given: dict[Symbol, Value]
    if isinstance(answer, SystemAns):
        given = dict(answer.assignments)
    elif isinstance(answer, SolutionsAns) and answer.var is not None and len(answer.values) == 1:
        given = {answer.var: answer.values[0]}
    elif isinstance(answer, SolutionsAns) and answer.var is None and len(answer.values) == len(names):
        given = dict(zip(names, answer.values, strict=True))  # an ordered tuple, alphabetical
    elif isinstance(answer, RealSetAns) and answer.pair is not None and len(names) == 2:
        given = dict(zip(names, answer.pair, strict=True))  # "(1, 2)" as a point
    else:
        return ("not_equivalent", "Give a value for each variable, like x = ..., y = ....")
    stray = sorted(set(given) - set(wanted), key=str)
    if stray:
        return ("wrong_variable", fb.wrong_variable(stray, names))
    results = {var: match(wanted[var], given[var]) for var in names if var in given}
    wrong = [var for var, m in results.items() if m not in MATCHED]
    if wrong:
        return ("not_equivalent", f"Check the value of {fb.listing([str(v) for v in wrong])}.")
    if len(results) < len(names):
        missing = [v for v in names if v not in given]
        found = [fb.assignment(v, given[v]) for v in names if v in given]
        return ("partial_set", f"You found {fb.listing(found)} but not {fb.listing([str(v) for v in missing])}.")
    if "imprecise" in results.values():
        return ("insufficient_precision", fb.MORE_FIGURES)
    if "unsimplified" in results.values():
        return ("not_simplified", fb.NOT_SIMPLIFIED)
    return EQUIVALENT


def realset(e: RealSetAns, answer: Answer) -> Outcome:
    """Compare against an interval, union of intervals or inequality."""
    if isinstance(answer, UnsolvedAns):
        return ("not_equivalent", fb.UNSOLVED_RANGE.format(var=answer.var or "x"))
    if not isinstance(answer, RealSetAns):
        return ("not_equivalent", fb.WANT_RANGE)
    if e.var is not None and answer.var is not None and e.var != answer.var:
        return ("wrong_variable", fb.wrong_variable([answer.var], [e.var]))
    status = _spans_match(e.realset, answer.realset)
    if status is not None:
        if not answer.isolated:
            return ("not_simplified", fb.FINISH_RANGE.format(var=answer.var))
        if status == "imprecise":
            return ("insufficient_precision", fb.MORE_FIGURES)
        if status == "unsimplified":
            return ("not_simplified", fb.NOT_SIMPLIFIED)
        return EQUIVALENT
    if answer.reversed:
        return ("not_equivalent", fb.REVERSED)
    return _range_hint(e.realset, answer.realset)


def _spans_match(e: rs.RealSet, a: rs.RealSet, *, closedness: bool = True) -> str | None:
    """Return the weakest endpoint match if a has the same spans as e, else None."""
    if len(e) != len(a):
        return None
    worst = "equal"
    for s, t in zip(e, a, strict=True):
        for eb, ab in ((s.lo, t.lo), (s.hi, t.hi)):
            if eb.infinite or ab.infinite:
                if eb.value.expr != ab.value.expr:
                    return None
                continue
            m = match(eb.value, ab.value)
            if m not in MATCHED or (closedness and eb.closed != ab.closed):
                return None
            worst = m if m in ("imprecise", "unsimplified") else worst
    return worst


def _range_hint(e: rs.RealSet, a: rs.RealSet) -> Outcome:
    if not a:
        return ("not_equivalent", fb.SOLUTIONS_EXIST)
    if _spans_match(e, a, closedness=False) is not None:
        for s, t in zip(e, a, strict=True):
            for eb, ab in ((s.lo, t.lo), (s.hi, t.hi)):
                if eb.closed != ab.closed:
                    return ("endpoint_inclusion", fb.inclusion(eb.value, eb.closed))
    if _spans_match(rs.complement(e), a, closedness=False) is not None:
        return ("wrong_direction", fb.DIRECTION)
    if len(e) == len(a):
        flipped: list[Value] = []
        for s, t in zip(e, a, strict=True):
            for eb, ab in ((s.lo, t.lo), (s.hi, t.hi)):
                if eb.infinite != ab.infinite:
                    flipped = []
                    break
                if not eb.infinite and match(eb.value, ab.value) not in MATCHED:
                    if match(eb.value, ab.value) != "negated":
                        return ("not_equivalent", fb.BOUNDARY)
                    flipped.append(ab.value)
            else:
                continue
            break
        if flipped:
            return ("sign_error", fb.SIGN_BOUNDARY.format(value=fb.show_value(flipped[0])))
    if len(a) < len(e) and all(any(_spans_match((s,), (t,)) for s in e) for t in a):
        return ("partial_set", fb.PART_OF_RANGE)
    return ("not_equivalent", fb.BOUNDARY)

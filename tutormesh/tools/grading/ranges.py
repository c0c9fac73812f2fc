"""Read interval and inequality answers into sets of real numbers."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Basic, Eq, Ge, Gt, Le, Lt, Ne, S, Symbol

from tutormesh.tools.grading import realsets as rs
from tutormesh.tools.grading.answer import IntervalLit, Member, Rel, SetLit, Special, Tree
from tutormesh.tools.grading.kinds import RealSetAns, UnsolvedAns
from tutormesh.tools.grading.notation import Value
from tutormesh.tools.grading.numeric import compare_constants, is_real_constant
from tutormesh.tools.grading.tokens import MathParseError


def is_range(clause: object) -> bool:
    """Say whether a clause describes a range (interval, inequality, ℝ) rather than values."""
    if isinstance(clause, IntervalLit) or clause is Special.REALS:
        return True
    if isinstance(clause, Member):
        return isinstance(clause.target, IntervalLit)
    return isinstance(clause, Rel) and any(op != "=" for op in clause.ops)


class _Unsolved(Exception):
    def __init__(self, var: Symbol | None, relation: Basic) -> None:
        super().__init__("not linear")
        self.var, self.relation = var, relation


@dataclass
class _RangeState:
    """What reading the clauses of a range answer found out."""

    var: Symbol | None = None
    inequality: bool = False
    isolated: bool = True
    reversed: bool = False


def read_range(tree: Tree) -> RealSetAns | UnsolvedAns:
    """Turn a clause tree of intervals/inequalities into one set of reals (or an unsolved one)."""
    state = _RangeState()
    result: rs.RealSet = rs.EMPTY
    try:
        for group in tree:
            part = rs.ALL
            for clause in group:
                part = rs.intersect(part, _clause_set(clause, state))
            result = rs.union(result, part)
    except _Unsolved as err:
        return UnsolvedAns(err.var, err.relation)
    only = tree[0][0] if len(tree) == 1 and len(tree[0]) == 1 else None
    pair = (only.lo, only.hi) if isinstance(only, IntervalLit) and not only.lo_closed else None
    form = "inequality" if state.inequality else "interval"
    return RealSetAns(state.var, result, form, state.isolated, state.reversed, pair)


def _use_var(state: _RangeState, var: Symbol) -> None:
    if state.var is not None and state.var != var:
        raise MathParseError("The answer mixes variables in one range.")
    state.var = var


def _endpoint(value: Value) -> Value:
    if value.expr.free_symbols or not is_real_constant(value.expr):
        raise MathParseError(f"The end {value.text or value.expr} must be a real number.")
    return value


def _clause_set(clause: object, state: _RangeState) -> rs.RealSet:
    if clause is Special.REALS:
        return rs.ALL
    if clause is Special.EMPTY:
        return rs.EMPTY
    if isinstance(clause, Member):
        _use_var(state, clause.var)
        clause = clause.target
    if isinstance(clause, IntervalLit):
        lo, hi = _endpoint(clause.lo), _endpoint(clause.hi)
        if rs.is_reversed(lo, hi):
            state.reversed = True
        return rs.span(lo, hi, clause.lo_closed, clause.hi_closed)
    if isinstance(clause, SetLit):
        out: rs.RealSet = rs.EMPTY
        for item in clause.items:
            if not isinstance(item, Value):
                raise MathParseError("A set can only list values.")
            out = rs.union(out, rs.span(_endpoint(item), item, True, True))
        return out
    if not isinstance(clause, Rel):
        raise MathParseError("A single value can't be combined with a range; write x = value.")
    if "=" in clause.ops and clause.ops != ("=",):
        raise MathParseError("Write one relation symbol between each pair of sides.")
    ascending = set(clause.ops) <= {"<", "<="}
    if len(clause.ops) > 1 and not (ascending or set(clause.ops) <= {">", ">="}):
        raise MathParseError("In a chain like a < x < b, both signs must point the same way.")
    out = rs.ALL
    for k, op in enumerate(clause.ops):
        out = rs.intersect(out, _half_line(clause.sides[k], op, clause.sides[k + 1], state))
    return out


def _half_line(a: Value, op: str, b: Value, state: _RangeState) -> rs.RealSet:
    symbols = a.expr.free_symbols | b.expr.free_symbols
    if len(symbols) != 1:
        raise MathParseError("An inequality must involve exactly one variable.")
    var = next(iter(symbols))
    _use_var(state, var)
    if op != "=":
        state.inequality = True
    if a.expr == var or b.expr == var:
        bound, op = (b, op) if a.expr == var else (a, _FLIP[op])
        if var in bound.expr.free_symbols:
            raise _Unsolved(var, _RELATIONAL[op](a.expr, b.expr, evaluate=False))
    else:
        poly = (a.expr - b.expr).as_poly(var)
        if poly is None or poly.degree() != 1:
            raise _Unsolved(var, _RELATIONAL[op](a.expr, b.expr, evaluate=False))
        slope, intercept = poly.all_coeffs()
        state.isolated = False
        bound = Value(-intercept / slope)
        op = _FLIP[op] if compare_constants(slope, S.Zero) < 0 else op
    bound = _endpoint(bound)
    inf, neg_inf = rs.POS_INF.value, rs.NEG_INF.value
    if op == "=":
        return rs.span(bound, bound, True, True)
    if op == "!=":
        return rs.complement(rs.span(bound, bound, True, True))
    return rs.span(neg_inf, bound, False, op == "<=") if op in ("<", "<=") else rs.span(bound, inf, op == ">=", False)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
_RELATIONAL = {"<": Lt, "<=": Le, ">": Gt, ">=": Ge, "=": Eq, "!=": Ne}

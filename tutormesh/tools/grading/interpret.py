"""Decide what a parsed answer is, and convert answers to plain sympy objects (`parse_math`)."""

from __future__ import annotations

import itertools

from sympy import And, Basic, Eq, FiniteSet, Interval, Or, S, Symbol, Union

from tutormesh.tools.grading.answer import Member, Rel, SetLit, Special, Tree, parse_tree
from tutormesh.tools.grading.kinds import (
    Answer,
    EquationAns,
    EquationsAns,
    ExprAns,
    NumberAns,
    SolutionsAns,
    SystemAns,
    UnsolvedAns,
    assignment,
)
from tutormesh.tools.grading.notation import Value
from tutormesh.tools.grading.parse import PLUS_MINUS
from tutormesh.tools.grading.ranges import is_range, read_range
from tutormesh.tools.grading.tokens import MathParseError

MAX_VALUES = 20


def read(text: str) -> Answer:
    """Parse and interpret `text`.

    Raises:
        MathParseError: if the text cannot be read as an answer.
    """
    return interpret(parse_tree(text))


def _expand(*values: Value) -> list[tuple[Value, ...]]:
    """Replace ± by + and by - (jointly across `values`)."""
    pms = sorted({p for v in values for p in PLUS_MINUS if p in v.expr.free_symbols}, key=str)
    if not pms:
        return [values]
    out = []
    for signs in itertools.product((S.One, S.NegativeOne), repeat=len(pms)):
        subs = dict(zip(pms, signs, strict=True))
        out.append(tuple(Value(v.expr.xreplace(subs), "", v.numeral, v.approx, v.percent_of) for v in values))
    return out


def _plain(value: Value) -> Value:
    if value.expr in (S.Infinity, S.NegativeInfinity):
        raise MathParseError("∞ can only be used as the end of an interval or inequality.")
    return value


def interpret(tree: Tree) -> Answer:
    """Classify a clause tree into a typed answer.

    Raises:
        MathParseError: for combinations that make no sense (mixed variables, ∞ as a value...).
    """
    clauses = [c for group in tree for c in group]
    if any(is_range(c) for c in clauses):
        return read_range(tree)
    entries: list[tuple[Symbol | None, Value]] = []
    equations: list[EquationAns] = []
    empty = braces = expanded = False
    for clause in clauses:
        if clause is Special.EMPTY:
            empty = True
            continue
        if isinstance(clause, SetLit | Member):
            braces = True
            var = clause.var if isinstance(clause, Member) else None
            target = clause.target if isinstance(clause, Member) else clause
            assert isinstance(target, SetLit)  # a Member of an interval is a range, handled above
            items = target.items
            for item in items:
                if not isinstance(item, Value | Rel):
                    raise MathParseError("A set can only list values.")
                entries.extend(_entries(item, var, equations))
            continue
        assert isinstance(clause, Value | Rel)
        found = _entries(clause, None, equations)
        expanded = expanded or len(found) > 1
        entries.extend(found)
    if len(entries) + len(equations) > MAX_VALUES:
        raise MathParseError(f"The answer lists more than {MAX_VALUES} values.", reason="too_complex")
    if equations:
        if empty or any(var is None for var, _ in entries):
            raise MathParseError("The answer mixes equations with bare values.")
        equations += [EquationAns(Value(var, str(var)), v) for var, v in entries if var is not None]
        return equations[0] if len(equations) == 1 and not braces else EquationsAns(tuple(equations))
    if empty:
        if entries:
            raise MathParseError("The answer says there is no solution but also gives values.")
        return SolutionsAns(None, ())
    variables = {var for var, _ in entries if var is not None}
    if len(entries) == 1 and not braces and not expanded:
        var, value = entries[0]
        if var is None:
            return ExprAns(value) if value.expr.free_symbols else NumberAns(value)
        if value.expr.free_symbols:
            return EquationAns(Value(var, str(var)), value)
        return SolutionsAns(var, (value,))
    if len(variables) <= 1:
        return SolutionsAns(next(iter(variables), None), tuple(v for _, v in entries))
    if all(var is not None for var, _ in entries) and len(variables) == len(entries):
        pairs = [(var, v) for var, v in entries if var is not None]
        return SystemAns(tuple(sorted(pairs, key=lambda p: str(p[0]))))
    raise MathParseError("The answer mixes variables; write each solution as x = ... or y = ....")


def _entries(
    clause: Value | Rel, var: Symbol | None, equations: list[EquationAns]
) -> list[tuple[Symbol | None, Value]]:
    """Turn a value or `=` relation into (variable, value) entries, or record a general equation."""
    if isinstance(clause, Value):
        return [(var, _plain(v)) for (v,) in _expand(clause)]
    if clause.ops != ("=",):
        raise MathParseError("Write one '=' per equation.")
    out: list[tuple[Symbol | None, Value]] = []
    for lhs, rhs in _expand(*clause.sides):
        pair = assignment(lhs, rhs)
        if pair is not None and var is None:
            out.append((pair[0], _plain(pair[1])))
        else:
            equations.append(EquationAns(_plain(lhs), _plain(rhs)))
    return out


def to_sympy(answer: Answer) -> Basic:
    """Convert a typed answer into plain sympy objects."""
    if isinstance(answer, NumberAns | ExprAns):
        return answer.value.expr
    if isinstance(answer, EquationAns):
        return Eq(answer.lhs.expr, answer.rhs.expr, evaluate=False)
    if isinstance(answer, EquationsAns):
        return And(*(Eq(e.lhs.expr, e.rhs.expr, evaluate=False) for e in answer.equations))
    if isinstance(answer, SolutionsAns):
        if answer.var is None:
            return FiniteSet(*(v.expr for v in answer.values))
        return Or(*(Eq(answer.var, v.expr, evaluate=False) for v in answer.values))
    if isinstance(answer, SystemAns):
        return And(*(Eq(var, v.expr, evaluate=False) for var, v in answer.assignments))
    if isinstance(answer, UnsolvedAns):
        return answer.relation
    real = Union(
        *(Interval(s.lo.value.expr, s.hi.value.expr, not s.lo.closed, not s.hi.closed) for s in answer.realset)
    )
    return real if answer.var is None else real.as_relational(answer.var)


def parse_math(text: str) -> Basic:
    r"""Parse student or author math safely into sympy objects, without ever calling `eval`.

    Numbers, expressions, equations (`Eq`), solution lists (`FiniteSet`, or `Or` of `Eq` when a
    variable is named), systems (`And`), intervals (`Interval`/`Union`) and inequalities
    (relationals) are all accepted, in plain text, unicode or simple LaTeX.

    Args:
        text: The math to parse, e.g. "2(x+3)", "x = ±2", "[2, 5)" or "\\frac{3}{4}".

    Returns:
        The sympy object described above.

    Raises:
        MathParseError: with a message that can be shown to a student.
    """
    return to_sympy(read(text))

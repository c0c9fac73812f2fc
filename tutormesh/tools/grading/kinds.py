"""The kinds of answer: number, expression, equation, solution set, interval, inequality."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Basic, Symbol

from tutormesh.tools.grading import realsets as rs
from tutormesh.tools.grading.notation import Value
from tutormesh.tools.grading.parse import PLUS_MINUS


@dataclass(frozen=True)
class NumberAns:
    """A single constant."""

    value: Value
    kind = "number"


@dataclass(frozen=True)
class ExprAns:
    """A single expression with variables."""

    value: Value
    kind = "expression"


@dataclass(frozen=True)
class EquationAns:
    """An equation that is not a plain `x = value` solution."""

    lhs: Value
    rhs: Value
    kind = "equation"

    @property
    def explicit(self) -> tuple[Symbol, Value] | None:
        """Return (y, f) if this is `y = f` with y not in f (either side)."""
        return assignment(self.lhs, self.rhs)


@dataclass(frozen=True)
class EquationsAns:
    """Several equations."""

    equations: tuple[EquationAns, ...]
    kind = "equation"


@dataclass(frozen=True)
class SolutionsAns:
    """Values of one variable (var is None when just listed: "-2, 2")."""

    var: Symbol | None
    values: tuple[Value, ...]
    kind = "solution_set"


@dataclass(frozen=True)
class SystemAns:
    """One value for each of several variables: x = 1, y = 2."""

    assignments: tuple[tuple[Symbol, Value], ...]
    kind = "solution_set"


@dataclass(frozen=True)
class RealSetAns:
    """An interval, union of intervals or inequality.

    Attributes:
        isolated: The inequality was already solved for the variable (x > 3, not 2x > 6).
        reversed: An interval was written with its larger end first.
        pair: (a, b) when the whole answer was "(a, b)"; it may mean a point for a system.
    """

    var: Symbol | None
    realset: rs.RealSet
    form: str
    isolated: bool = True
    reversed: bool = False
    pair: tuple[Value, Value] | None = None

    @property
    def kind(self) -> str:
        """Return "inequality" or "interval", as written."""
        return self.form


@dataclass(frozen=True)
class UnsolvedAns:
    """An inequality we cannot turn into intervals (not linear in its variable)."""

    var: Symbol | None
    relation: Basic
    kind = "inequality"


Answer = NumberAns | ExprAns | EquationAns | EquationsAns | SolutionsAns | SystemAns | RealSetAns | UnsolvedAns


def assignment(lhs: Value, rhs: Value) -> tuple[Symbol, Value] | None:
    """Return (x, v) if the relation lhs = rhs is `x = v` (or `v = x`) with x not in v."""
    for var, value in ((lhs, rhs), (rhs, lhs)):
        if isinstance(var.expr, Symbol) and var.expr not in PLUS_MINUS and var.expr not in value.expr.free_symbols:
            return var.expr, value
    return None

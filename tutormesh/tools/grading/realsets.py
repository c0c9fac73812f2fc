"""Subsets of the real line as sorted unions of intervals, for interval and inequality answers."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sympy import S

from tutormesh.tools.grading.notation import Value, negated
from tutormesh.tools.grading.numeric import compare_constants


@dataclass(frozen=True)
class Bound:
    """One end of an interval; infinite ends are never closed."""

    value: Value
    closed: bool

    @property
    def infinite(self) -> bool:
        """Say whether this end is ±∞."""
        return self.value.expr in (S.Infinity, S.NegativeInfinity)


@dataclass(frozen=True)
class Span:
    """A non-empty interval lo..hi (lo == hi only for a closed single point)."""

    lo: Bound
    hi: Bound


RealSet = tuple[Span, ...]  # sorted, disjoint, not touching
NEG_INF = Bound(Value(S.NegativeInfinity, "-∞"), False)
POS_INF = Bound(Value(S.Infinity, "∞"), False)
ALL: RealSet = (Span(NEG_INF, POS_INF),)
EMPTY: RealSet = ()


def _cmp(a: Bound, b: Bound) -> int:
    return compare_constants(a.value.expr, b.value.expr)


def span(lo: Value, hi: Value, lo_closed: bool, hi_closed: bool) -> RealSet:
    """Return the set lo..hi, or EMPTY if it contains nothing (lo > hi, or (a, a))."""
    low = Bound(lo, lo_closed and lo.expr is not S.NegativeInfinity)
    high = Bound(hi, hi_closed and hi.expr is not S.Infinity)
    if lo.expr is S.Infinity or hi.expr is S.NegativeInfinity:
        return EMPTY
    order = _cmp(low, high)
    if order > 0 or (order == 0 and not (low.closed and high.closed)):
        return EMPTY
    return (Span(low, high),)


def is_reversed(lo: Value, hi: Value) -> bool:
    """Say whether an interval was written with its larger end first."""
    return compare_constants(lo.expr, hi.expr) > 0


def intersect(a: RealSet, b: RealSet) -> RealSet:
    """Return a ∩ b."""
    out: list[Span] = []
    for s in a:
        for t in b:
            lo = _max_lo(s.lo, t.lo)
            hi = _min_hi(s.hi, t.hi)
            order = _cmp(lo, hi)
            if order < 0 or (order == 0 and lo.closed and hi.closed):
                out.append(Span(lo, hi))
    return union(tuple(out), EMPTY)


def _max_lo(a: Bound, b: Bound) -> Bound:
    order = _cmp(a, b)
    if order == 0:
        return replace(a, closed=a.closed and b.closed)
    return a if order > 0 else b


def _min_hi(a: Bound, b: Bound) -> Bound:
    order = _cmp(a, b)
    if order == 0:
        return replace(a, closed=a.closed and b.closed)
    return a if order < 0 else b


def union(a: RealSet, b: RealSet) -> RealSet:
    """Return a ∪ b, sorted and with overlapping or touching spans merged."""
    spans = list(a) + list(b)
    spans.sort(key=_SortKey)
    out: list[Span] = []
    for s in spans:
        if out:
            last = out[-1]
            order = _cmp(s.lo, last.hi)
            if order < 0 or (order == 0 and (s.lo.closed or last.hi.closed)):
                out[-1] = Span(last.lo, _max_hi(last.hi, s.hi))
                continue
        out.append(s)
    return tuple(out)


def _max_hi(a: Bound, b: Bound) -> Bound:
    order = _cmp(a, b)
    if order == 0:
        return replace(a, closed=a.closed or b.closed)
    return a if order > 0 else b


class _SortKey:
    """Order spans by their low end, closed before open at the same point."""

    def __init__(self, s: Span) -> None:
        self.s = s

    def __lt__(self, other: _SortKey) -> bool:
        order = _cmp(self.s.lo, other.s.lo)
        return order < 0 or (order == 0 and self.s.lo.closed and not other.s.lo.closed)


def complement(a: RealSet) -> RealSet:
    """Return ℝ minus a."""
    out: list[Span] = []
    start = NEG_INF
    for s in a:
        if not s.lo.infinite:
            out.extend(span(start.value, s.lo.value, start.closed, not s.lo.closed))
        start = replace(s.hi, closed=not s.hi.closed)
    if not start.infinite or start.value.expr is S.NegativeInfinity:
        out.extend(span(start.value, POS_INF.value, start.closed, False))
    return tuple(out)


def negate(a: RealSet) -> RealSet:
    """Return {-x : x in a} (to recognise sign errors in endpoints)."""
    out: RealSet = EMPTY
    for s in a:
        out = union(out, span(negated(s.hi.value), negated(s.lo.value), s.hi.closed, s.lo.closed))
    return out

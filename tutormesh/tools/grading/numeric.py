"""Decide whether sympy expressions are equal with bounded exact and numeric tests, not `simplify`.

* Rational functions with rational coefficients are compared exactly at random points modulo the
  prime 2^61 - 1. Two different rational functions of degree d agree at a random point with
  probability at most d / 2^61, and every comparison uses fresh random points.
* Anything else (radicals, pi, logs, trig) is evaluated with mpmath at sample points chosen in
  `points` (every sign pattern, and both sides of every place where |f|, sqrt(f) or log(f) changes
  branch). The working precision grows with the size of the numbers involved (`height_bits`) and
  the largest intermediate value, so a difference such as `+ 10^-60` is never lost in rounding,
  and the tolerance sits ~96 bits above the rounding error.
* Identities that only hold for positive variables (ln(xy) = ln x + ln y) are retried at positive
  points when both sides use logs or fractional powers, as school algebra assumes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mpmath.ctx_mp import MPContext
from sympy import Abs, Expr, Rational, S

from tutormesh.tools.grading import guard
from tutormesh.tools.grading.evaluate import (
    PRIME,
    Unevaluable,
    domain_restricted,
    is_rational_function,
    mod_eval,
    mp_context,
    mp_eval,
)
from tutormesh.tools.grading.parse import height_bits
from tutormesh.tools.grading.points import Point, choose_points

MAX_PRECISION_BITS = 8_192
MAX_VARIABLES = 8
_MIN_GOOD_POINTS = 5
_MODULAR_POINTS = 3
_MARGIN_BITS = 96


class TooComplex(Exception):
    """The expressions could not be evaluated reliably within the limits."""


@dataclass
class Samples:
    """Values of several expressions at shared points; `rows[k][i]` is expression i at point k."""

    modular: bool
    rows: list[tuple[Any, ...]]
    thresholds: list[Any]  # per row: largest difference still counted as equal (numeric mode)
    ctx: MPContext | None = None

    def same(self, k: int, u: Any, v: Any, scale: Any = 1) -> bool:
        """Say whether values u and v at row k are equal (exactly, or within the row's tolerance)."""
        if self.modular:
            return bool(u % PRIME == v % PRIME)
        return bool(abs(u - v) <= self.thresholds[k] * scale)

    def all_same(self, i: int, j: int, sign: int = 1) -> bool:
        """Say whether expression i equals sign * expression j at every point."""
        return all(self.same(k, row[i], sign * row[j]) for k, row in enumerate(self.rows))

    def is_zero(self, k: int, u: Any) -> bool:
        """Say whether u is zero at row k."""
        return self.same(k, u, 0)

    def constant_offset(self, i: int, j: int) -> bool:
        """Say whether expression i minus expression j is one nonzero constant at every point."""
        first = self.rows[0][i] - self.rows[0][j]
        return not self.is_zero(0, first) and all(
            self.same(k, row[i] - row[j], first) for k, row in enumerate(self.rows)
        )

    def proportional(self, i: int, j: int) -> bool:
        """Say whether expression i = c * expression j for one nonzero constant c."""
        ref = next((k for k, row in enumerate(self.rows) if not self.is_zero(k, row[j])), None)
        if ref is None or self.is_zero(ref, self.rows[ref][i]):
            return False
        if self.modular:
            c = self.rows[ref][i] * pow(int(self.rows[ref][j]), -1, PRIME) % PRIME
            return all((row[i] - c * row[j]) % PRIME == 0 for row in self.rows)
        c = self.rows[ref][i] / self.rows[ref][j]
        return all(self.same(k, row[i], c * row[j], 1 + abs(c)) for k, row in enumerate(self.rows))


def sample(exprs: Sequence[Expr], *, positive: bool = False) -> Samples:
    """Evaluate `exprs` at shared random points, exactly when possible.

    Raises:
        TooComplex: if too many variables, too much precision needed, or too few valid points.
    """
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    if len(symbols) > MAX_VARIABLES:
        raise TooComplex("too many variables")
    rng = random.Random()
    if symbols and not positive and all(is_rational_function(e) for e in exprs):
        rows = []
        for _ in range(_MODULAR_POINTS * 3):
            guard.check()
            env = {s: rng.randrange(2, PRIME) for s in symbols}
            try:
                rows.append(tuple(mod_eval(e, env) for e in exprs))
            except Unevaluable:
                continue  # hit a pole; another random point will do
            if len(rows) == _MODULAR_POINTS:
                return Samples(True, rows, [])
        raise TooComplex("no valid points")
    height = max((height_bits(e) for e in exprs), default=2)
    points = choose_points(symbols, rng, positive, exprs) if symbols else [{}]
    prec = _tier(2 * height + 160)
    minimum = _MIN_GOOD_POINTS if len(points) > 1 else 1
    for _ in range(2):
        if prec > MAX_PRECISION_BITS:
            raise TooComplex("needs too much precision")
        samples, sizes = _numeric(exprs, points, prec, minimum)
        # A row is trusted if the precision covers its largest intermediate value: then the
        # tolerance stays below 2^-(2*height + 64). Rows with huge values are dropped when enough
        # others remain, rather than recomputing everything at a (slow) higher precision.
        keep = [k for k, size in enumerate(sizes) if 2 * height + size + 160 <= prec + 32]
        if len(keep) >= minimum:
            samples.rows = [samples.rows[k] for k in keep]
            samples.thresholds = [samples.thresholds[k] for k in keep]
            return samples
        prec = _tier(2 * height + max(sizes) + 160)
    raise TooComplex("values too large to compare reliably")


def _tier(bits: int) -> int:
    """Round a precision up to a power of two: mpmath caches gamma/zeta tables per precision."""
    return max(256, 1 << (bits - 1).bit_length())


def _numeric(exprs: Sequence[Expr], points: list[Point], prec: int, minimum: int) -> tuple[Samples, list[int]]:
    """Evaluate at every point; return the samples and each row's largest magnitude (in bits)."""
    ctx = mp_context()
    ctx.prec = prec
    rows, thresholds, sizes = [], [], []
    for point in points:
        guard.check()
        env = {s: ctx.mpf(p) / q for s, (p, q) in point.items()}
        mags = [0]
        try:
            rows.append(tuple(mp_eval(e, env, ctx, mags) for e in exprs))
        except (Unevaluable, ZeroDivisionError, ValueError, OverflowError):
            continue
        thresholds.append(ctx.ldexp(1, mags[0] - (prec - _MARGIN_BITS)))
        sizes.append(max(mags[0], 0))
    if len(rows) < minimum:
        raise TooComplex("undefined at too many points")
    return Samples(False, rows, thresholds, ctx), sizes


def relate(e: Expr, a: Expr) -> str:
    """Say how answer `a` relates to expected `e`, from a single set of sample points.

    Returns:
        "equal", "negated" (a = -e), "offset" (a = e + c), "scaled" (a = c*e) or "different";
        offset and scaled are only reported when there are variables.

    Raises:
        TooComplex: when neither an exact nor a reliable numeric comparison is possible.
    """
    if e == a:
        return "equal"
    if e.is_Rational and a.is_Rational:
        return "negated" if e == -a else "different"
    samples = sample([e, a])
    if samples.all_same(0, 1):
        return "equal"
    nonzero = not all(samples.is_zero(k, row[0]) for k, row in enumerate(samples.rows))
    if nonzero and samples.all_same(0, 1, sign=-1):
        return "negated"
    if not samples.modular and domain_restricted(e) and domain_restricted(a) and not (e.has(Abs) or a.has(Abs)):
        if sample([e, a], positive=True).all_same(0, 1):
            return "equal"  # an identity for positive variables, as school algebra assumes
    if e.free_symbols or a.free_symbols:
        if samples.constant_offset(0, 1):
            return "offset"
        if samples.proportional(0, 1):
            return "scaled"
    return "different"


def equal(e: Expr, a: Expr) -> bool:
    """Say whether e and a are the same expression (or number).

    Raises:
        TooComplex: when neither an exact nor a reliable numeric comparison is possible.
    """
    return relate(e, a) == "equal"


def compare_constants(a: Expr, b: Expr) -> int:
    """Return -1, 0 or 1 as the real constant a is below, equal to or above b (±oo allowed)."""
    if a == b:
        return 0
    for inf, sign in ((S.Infinity, 1), (S.NegativeInfinity, -1)):
        if a is inf:
            return sign
        if b is inf:
            return -sign
    if a.is_Rational and b.is_Rational:
        return 1 if a > b else -1
    samples = sample([a, b])
    u, v = samples.rows[0]
    if samples.same(0, u, v):
        return 0
    return 1 if samples.ctx is not None and samples.ctx.re(u - v) > 0 else -1


def within_rounding(value: Expr, literal: Expr, dp: int, *, units: float = 0.5) -> bool:
    """Say whether the decimal `literal` is within `units` of its last place (10^-dp) of `value`.

    With the default half unit this means `literal` is `value` correctly rounded to dp places.
    """
    tolerance = Rational(units) * Rational(10) ** (-dp)
    if value.is_Rational:
        return bool(abs(literal - value) <= tolerance)
    samples = sample([value - literal])
    ctx = samples.ctx
    assert ctx is not None
    return bool(abs(samples.rows[0][0]) <= ctx.mpf(int(tolerance.p)) / int(tolerance.q))


def is_real_constant(value: Expr) -> bool:
    """Say whether a constant expression is real (so it can be an interval endpoint)."""
    if value.is_Rational or value in (S.Infinity, S.NegativeInfinity):
        return True
    samples = sample([value])
    return samples.same(0, samples.ctx.im(samples.rows[0][0]) if samples.ctx else 0, 0)


def terminating(value: Expr) -> bool:
    """Say whether `value` is a rational with a finite decimal expansion (denominator 2^a 5^b)."""
    if not value.is_Rational:
        return False
    q = int(value.q)
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1

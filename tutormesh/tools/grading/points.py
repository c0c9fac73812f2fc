"""Choose where to evaluate expressions so that different expressions show their difference."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from fractions import Fraction

from sympy import Abs, Expr, Rational, Symbol, log, preorder_traversal

POINTS = 8
STRATA = 8
Point = dict[Symbol, tuple[int, int]]  # variable -> (numerator, denominator)


def choose_points(symbols: list[Symbol], rng: random.Random, positive: bool, exprs: Sequence[Expr]) -> list[Point]:
    """Pick sample points.

    Eight points with |x| < 2 cover every sign pattern of up to 3 variables (so |x| != x shows).
    If a function changes branch somewhere (|f|, f^(1/2), log f), more points are added: log-spaced
    magnitudes out past the size of every constant, and for one variable a point between each pair
    of real roots of f, found exactly, so |x - 5| and 5 - x never look equal.
    """
    flips = [rng.randrange(2) for _ in symbols]
    out: list[Point] = []
    for k in range(POINTS):
        point = {}
        for j, s in enumerate(symbols):
            negative = not positive and ((k >> (j % 3)) & 1) ^ flips[j]
            magnitude = rng.randrange(600_000, 1_900_000)  # |x| < 2: height counts 2 bits per symbol
            point[s] = (-magnitude if negative else magnitude, 1_000_000)
        out.append(point)
    critical = _branch_arguments(exprs)
    if not critical:
        return out
    scale = max((max(abs(int(n.p)), int(n.q)) for e in exprs for n in e.atoms(Rational)), default=2)
    span = min(max(scale, 2).bit_length(), 200) + 3
    strata = [rng.sample(range(STRATA), STRATA) for _ in symbols]
    for k in range(2 * STRATA):
        point = {}
        for j, s in enumerate(symbols):
            exponent = -span + 2 * span * (strata[j][k % STRATA] + rng.random()) / STRATA
            p, q = Fraction(2**exponent).limit_denominator(2**20).as_integer_ratio()
            negative = not positive and (k // STRATA) ^ flips[j] ^ (j % 2 and k % 2)
            point[s] = (-p if negative else p, q)
        out.append(point)
    if len(symbols) == 1:
        for value in _between_roots(critical, symbols[0]):
            if value > 0 or not positive:
                out.append({symbols[0]: (int(value.p), int(value.q))})
    return out


def _branch_arguments(exprs: Sequence[Expr]) -> list[Expr]:
    """Return the arguments f of |f|, f^(p/q) and log f that contain variables."""
    found = []
    for e in exprs:
        for node in preorder_traversal(e):
            if isinstance(node, Abs | log):
                arg = node.args[0]
            elif node.is_Pow and not node.exp.is_Integer:
                arg = node.base
            else:
                continue
            if arg.free_symbols:
                found.append(arg)
    return found


def _between_roots(args: list[Expr], var: Symbol) -> list[Rational]:
    """Return rationals below, between and above the real roots of the polynomial `args`."""
    roots: list[Rational] = []
    for arg in args:
        poly = arg.as_poly(var)
        if poly is None or not (poly.domain.is_ZZ or poly.domain.is_QQ) or not 1 <= poly.degree() <= 8:
            continue
        for (lo, hi), _ in poly.intervals(eps=Rational(1, 10**6)):
            roots.append((lo + hi) / 2)
    roots = sorted(set(roots))
    if not roots:
        return []
    middles = [(a + b) / 2 for a, b in itertools.pairwise(roots) if b - a > Rational(1, 10**5)]
    return [roots[0] - 1, *middles, roots[-1] + 1]

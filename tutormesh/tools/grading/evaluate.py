"""Evaluate sympy expressions exactly (modulo a prime) or numerically (mpmath), within bounds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mpmath.ctx_mp import MPContext
from sympy import Abs, Expr, S, Symbol, cos, exp, factorial, log, preorder_traversal, sin, tan

PRIME = (1 << 61) - 1
MAX_MAGNITUDE_BITS = 2_048  # values beyond 2^2048 make a sample point unusable

MAX_GAMMA_PRECISION = 1_024  # mpmath builds gamma tables per precision: 80 ms at 1024 bits, 0.5 s at 2048

_local = threading.local()


class Unevaluable(Exception):
    """The expression is undefined or out of range at this point."""


def mp_context() -> MPContext:
    """Return this thread's mpmath context (the global `mpmath.mp` is shared, so not thread-safe)."""
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = _local.ctx = MPContext()
    return ctx


def is_rational_function(expr: Expr) -> bool:
    """Say whether `expr` uses only rationals, symbols, +, * and integer powers."""
    for node in preorder_traversal(expr):
        if node.is_Symbol or node.is_Rational or node.is_Add or node.is_Mul:
            continue
        if node.is_Pow and node.exp.is_Integer:
            continue
        return False
    return True


def domain_restricted(expr: Expr) -> bool:
    """Say whether `expr` uses logs or fractional powers of variables (real only for x > 0)."""
    for node in preorder_traversal(expr):
        if isinstance(node, log) and node.free_symbols:
            return True
        if node.is_Pow and not node.exp.is_Integer and node.base.free_symbols:
            return True
    return False


def mod_eval(expr: Expr, env: dict[Symbol, int]) -> int:
    """Evaluate a rational function modulo PRIME (see `is_rational_function`)."""
    if expr.is_Rational:
        if expr.q == 1:
            return int(expr.p) % PRIME
        return int(expr.p) * pow(int(expr.q), -1, PRIME) % PRIME
    if expr.is_Symbol:
        return env[expr]
    if expr.is_Add:
        return sum(mod_eval(a, env) for a in expr.args) % PRIME
    if expr.is_Mul:
        out = 1
        for a in expr.args:
            out = out * mod_eval(a, env) % PRIME
        return out
    base, power = mod_eval(expr.base, env), int(expr.exp)
    if power < 0:
        if base == 0:
            raise Unevaluable("division by zero")
        base, power = pow(base, -1, PRIME), -power
    return pow(base, power, PRIME)


_FUNCS: dict[type, Callable[[MPContext, Any], Any]] = {
    exp: lambda c, v: c.exp(v), log: lambda c, v: c.log(v), sin: lambda c, v: c.sin(v),
    cos: lambda c, v: c.cos(v), tan: lambda c, v: c.tan(v), Abs: lambda c, v: abs(v),
    factorial: lambda c, v: c.gamma(v + 1),
}


def mp_eval(expr: Expr, env: dict[Symbol, Any], ctx: MPContext, mags: list[int]) -> Any:
    """Evaluate `expr` at the current precision, recording the largest magnitude seen in `mags`."""
    if expr.is_Integer:
        value = ctx.mpf(int(expr))
    elif expr.is_Rational:
        value = ctx.mpf(int(expr.p)) / int(expr.q)
    elif expr.is_Symbol:
        value = env[expr]
    elif expr is S.Pi:
        value = +ctx.pi
    elif expr is S.Exp1:
        value = +ctx.e
    elif expr is S.ImaginaryUnit:
        value = ctx.mpc(0, 1)
    elif expr.is_Add:
        terms = [mp_eval(a, env, ctx, mags) for a in expr.args]
        value = ctx.fsum(terms)
    elif expr.is_Mul:
        value = ctx.fprod([mp_eval(a, env, ctx, mags) for a in expr.args])
    elif expr.is_Pow:
        base = mp_eval(expr.base, env, ctx, mags)
        power = int(expr.exp) if expr.exp.is_Integer else mp_eval(expr.exp, env, ctx, mags)
        if base and abs(ctx.mag(abs(base)) * abs(power)) > 2 * MAX_MAGNITUDE_BITS:
            raise Unevaluable("too large")  # refuse before mpmath computes a huge power
        value = ctx.power(base, power)
    elif type(expr) in _FUNCS:
        arg = mp_eval(expr.args[0], env, ctx, mags)
        if type(expr) in (exp, factorial) and ctx.re(arg) > 2 * MAX_MAGNITUDE_BITS:
            raise Unevaluable("too large")  # e^x and x! overflow the cap long before x = 4096
        if type(expr) is factorial and (ctx.im(arg) or ctx.prec > MAX_GAMMA_PRECISION):
            raise Unevaluable("factorial")  # complex or very precise gamma is slow and never school math
        value = _FUNCS[type(expr)](ctx, arg)
    else:
        raise Unevaluable(f"cannot evaluate {type(expr).__name__}")
    size = abs(value)
    if not ctx.isfinite(size):
        raise Unevaluable("not finite")
    if size:
        mag = int(ctx.mag(size))
        if mag > MAX_MAGNITUDE_BITS:
            raise Unevaluable("too large")
        if mag > mags[0]:
            mags[0] = mag
    return value


def _warm_gamma_tables() -> None:
    """Build mpmath's gamma tables for the common precisions now, not inside a timed grade."""
    ctx = MPContext()
    for bits in (256, 512):
        ctx.prec = bits
        ctx.gamma(ctx.mpf(37) / 10)


_warm_gamma_tables()

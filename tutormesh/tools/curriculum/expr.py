"""Exact, eval-free expressions for item templates.

Template expressions are parsed with :mod:`ast` and walked by a tiny interpreter over
:class:`fractions.Fraction`: ``+ - * / % **``, unary minus, comparisons, ``and``/``or``/``not``,
``x if c else y``, integer and string literals, names, and a fixed set of functions. Nothing is
ever passed to ``eval``; any other syntax is rejected when the curriculum loads.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from functools import lru_cache

Value = Fraction | str | bool

_MAX_EXPONENT = 64
MONEY_PATTERN = "money_pattern"  # the env key money() reads, e.g. "₹{amount}"
_RELATIONS = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class ExprError(ValueError):
    """A template expression is malformed, unsafe, or cannot be evaluated."""


def fmt(value: Value) -> str:
    """Render a value the way answers are written: ``3``, ``-3/4``, strings as they are."""
    if isinstance(value, bool):
        raise ExprError("a condition cannot be rendered as text")
    if isinstance(value, str):
        return value
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def _num(value: Value, what: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, Fraction):
        raise ExprError(f"{what} needs a number, got {value!r}")
    return value


def _int(value: Value, what: str) -> int:
    number = _num(value, what)
    if number.denominator != 1:
        raise ExprError(f"{what} needs an integer, got {fmt(number)}")
    return number.numerator


def terms(*args: Value) -> str:
    """Render ``c1, 'x^2', c2, 'x', c3, ''`` as ``2x^2 - x + 5``: signs folded, 1s and 0s dropped."""
    if len(args) % 2:
        raise ExprError("terms() takes (coefficient, monomial) pairs")
    parts: list[str] = []
    for coef_value, mono_value in zip(args[::2], args[1::2], strict=True):
        coef = _num(coef_value, "terms() coefficient")
        if not isinstance(mono_value, str):
            raise ExprError("terms() monomials must be strings such as 'x' or ''")
        if coef == 0:
            continue
        size = abs(coef)
        if mono_value and size == 1:
            body = mono_value
        elif mono_value and size.denominator != 1:
            body = f"({fmt(size)}){mono_value}"
        else:
            body = fmt(size) + mono_value
        if parts:
            parts.append(("- " if coef < 0 else "+ ") + body)
        else:
            parts.append(("-" if coef < 0 else "") + body)
    return " ".join(parts) or "0"


def more(*args: Value) -> str:
    """Render terms that continue an expression: ``more(-1, 'x', 4, '')`` -> ``- x + 4``."""
    text = terms(*args)
    if text == "0":
        return ""
    return "- " + text[1:] if text.startswith("-") else "+ " + text


def rel(value: Value) -> str:
    """Render an inequality sign for display: ``<=`` -> ``≤``, ``>=`` -> ``≥``."""
    if value not in _RELATIONS:
        raise ExprError(f"unknown relation {value!r}")
    return {"<=": "≤", ">=": "≥"}.get(str(value), str(value))


def flip(value: Value) -> str:
    """Reverse an inequality sign, as dividing by a negative number does."""
    if value not in _RELATIONS:
        raise ExprError(f"unknown relation {value!r}")
    return _RELATIONS[str(value)]


def is_dec(value: Value) -> bool:
    """Return True when a number has an exact decimal form (denominator 2^i 5^j)."""
    den = _num(value, "is_dec()").denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    return den == 1


def sgn(value: Value) -> str:
    """Render a number as a signed addend: ``+ 4`` or ``- 4``."""
    number = _num(value, "sgn()")
    return ("- " if number < 0 else "+ ") + fmt(abs(number))


def paren(value: Value) -> str:
    """Render a number, wrapping negatives in parentheses: ``(-3)``."""
    number = _num(value, "p()")
    return f"({fmt(number)})" if number < 0 else fmt(number)


def dec(value: Value) -> str:
    """Render a terminating fraction as an exact decimal (``5/4`` -> ``1.25``)."""
    number = _num(value, "dec()")
    for places in range(13):
        scaled = number * 10**places
        if scaled.denominator == 1:
            digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
            whole, frac = digits[: len(digits) - places], digits[len(digits) - places :]
            text = f"{whole}.{frac}" if places else whole
            return ("-" if number < 0 else "") + text
    raise ExprError(f"{fmt(number)} has no exact decimal form")


def money(env: Mapping[str, Value], amount: Value) -> str:
    """Write an amount of money as the rendering's cultural context does (``₹12``, ``$1.50``).

    The context's pattern comes from the env (see culture.py); whole amounts are bare, others get
    two decimals.
    """
    pattern = env.get(MONEY_PATTERN)
    if not isinstance(pattern, str):
        raise ExprError("money() needs a cultural context to render")
    number = _num(amount, "money()")
    text = dec(abs(number))
    if "." in text and len(text.split(".")[1]) == 1:
        text += "0"
    return ("-" if number < 0 else "") + pattern.replace("{amount}", text)


def _abs(value: Value) -> Fraction:
    return abs(_num(value, "abs()"))


def _min(*values: Value) -> Fraction:
    return min(_num(v, "min()") for v in values)


def _max(*values: Value) -> Fraction:
    return max(_num(v, "max()") for v in values)


Function = Callable[..., Value]
NUMERIC_FUNCTIONS: dict[str, Function] = {
    "abs": _abs,
    "min": _min,
    "max": _max,
    "flip": flip,
    "is_dec": is_dec,
}
FORMAT_FUNCTIONS: dict[str, Function] = {
    **NUMERIC_FUNCTIONS,
    "terms": terms,
    "more": more,
    "rel": rel,
    "sgn": sgn,
    "p": paren,
    "dec": dec,
    "fmt": fmt,
}
# Functions that also read the rendering's env (its cultural context); only inside ``{...}``.
ContextFunction = Callable[..., Value]
CONTEXT_FUNCTIONS: dict[str, ContextFunction] = {"money": money}

_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.Call,
    ast.Compare, ast.BoolOp, ast.IfExp,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Not,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.And, ast.Or,
)  # fmt: skip


@lru_cache(maxsize=4096)
def parse(source: str) -> ast.Expression:
    """Parse an expression and reject any syntax outside the small allowed language."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"cannot parse {source!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExprError(f"{type(node).__name__} is not allowed in {source!r}")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, int | str)):
            raise ExprError(f"only integer and string literals are allowed in {source!r}")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.keywords):
            raise ExprError(f"only plain calls such as abs(x) are allowed in {source!r}")
    return tree


def names_in(source: str) -> tuple[set[str], set[str]]:
    """Return (variable names, function names) used by an expression."""
    tree = parse(source)
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - calls
    return names, calls


def check(source: str, known: Iterable[str], functions: Mapping[str, Function]) -> None:
    """Raise ExprError unless the expression parses and uses only known names and functions.

    With the text helpers (FORMAT_FUNCTIONS), the context functions such as money() are known too.
    """
    names, calls = names_in(source)
    if unknown := sorted(names - set(known)):
        raise ExprError(f"unknown name(s) {', '.join(unknown)} in {source!r}")
    allowed = set(functions) | (set(CONTEXT_FUNCTIONS) if functions is FORMAT_FUNCTIONS else set())
    if bad := sorted(calls - allowed):
        raise ExprError(f"unknown function(s) {', '.join(bad)} in {source!r}")


def evaluate(source: str, env: Mapping[str, Value], *, formatting: bool = False) -> Value:
    """Evaluate an expression exactly over Fractions; ints become Fractions, never floats.

    ``formatting`` also allows the text helpers (terms, sgn, dec...) used inside ``{...}``.
    """
    return _compiled(source, formatting)(env)


def render(text: str, env: Mapping[str, Value]) -> str:
    """Replace every ``{expression}`` in text with its formatted value."""

    def one(match: re.Match[str]) -> str:
        return fmt(_compiled(match.group(1), True)(env))

    # An empty continuation such as more(0, '') must not leave a double space behind.
    return re.sub(r" {2,}", " ", _PLACEHOLDER.sub(one, text)).strip()


def placeholders(text: str) -> list[str]:
    """Return the expressions inside ``{...}`` in a template string."""
    return _PLACEHOLDER.findall(text)


Compiled = Callable[[Mapping[str, Value]], Value]


@lru_cache(maxsize=8192)
def _compiled(source: str, formatting: bool) -> Compiled:
    # Templates are instantiated millions of times; walk each expression's AST once, into closures.
    return _compile(parse(source).body, FORMAT_FUNCTIONS if formatting else NUMERIC_FUNCTIONS)


def _compile(node: ast.expr, functions: Mapping[str, Function]) -> Compiled:
    if isinstance(node, ast.Constant):
        constant: Value = Fraction(node.value) if isinstance(node.value, int) else str(node.value)
        return lambda env: constant
    if isinstance(node, ast.Name):
        return _name(node.id)
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, functions)
        if isinstance(node.op, ast.Not):
            return lambda env: not _truth(operand(env))
        if isinstance(node.op, ast.USub):
            return lambda env: -_num(operand(env), "unary minus")
        return lambda env: _num(operand(env), "unary plus")
    if isinstance(node, ast.BinOp):
        left, right, arith = _compile(node.left, functions), _compile(node.right, functions), _ARITH[type(node.op)]
        return lambda env: arith(_num(left(env), "arithmetic"), _num(right(env), "arithmetic"))
    if isinstance(node, ast.Compare):
        return _comparison(_compile(node.left, functions), node, functions)
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, functions) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(_truth(p(env)) for p in parts)
        return lambda env: any(_truth(p(env)) for p in parts)
    if isinstance(node, ast.IfExp):
        test, body, orelse = (_compile(n, functions) for n in (node.test, node.body, node.orelse))
        return lambda env: body(env) if _truth(test(env)) else orelse(env)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in CONTEXT_FUNCTIONS and functions is FORMAT_FUNCTIONS:
            reader, params = CONTEXT_FUNCTIONS[node.func.id], [_compile(a, functions) for a in node.args]
            return lambda env: reader(env, *(a(env) for a in params))
        if node.func.id not in functions:
            raise ExprError(f"unknown function {node.func.id!r}")
        function, args = functions[node.func.id], [_compile(a, functions) for a in node.args]
        return lambda env: function(*(a(env) for a in args))
    raise ExprError(f"{type(node).__name__} is not allowed")


def _name(name: str) -> Compiled:
    def lookup(env: Mapping[str, Value]) -> Value:
        try:
            return env[name]
        except KeyError:
            raise ExprError(f"unknown name {name!r}") from None

    return lookup


def _comparison(first: Compiled, node: ast.Compare, functions: Mapping[str, Function]) -> Compiled:
    steps = [(_COMPARE[type(op)], _compile(c, functions)) for op, c in zip(node.ops, node.comparators, strict=True)]

    def compare(env: Mapping[str, Value]) -> bool:
        left = first(env)
        for test, right_part in steps:
            right = right_part(env)
            if not test(left, right):
                return False
            left = right
        return True

    return compare


def _truth(value: Value) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"expected a condition, got {value!r}")
    return value


def _power(base: Fraction, exponent_value: Fraction) -> Fraction:
    exponent = _int(exponent_value, "exponent")
    if abs(exponent) > _MAX_EXPONENT:
        raise ExprError(f"exponent {exponent} is too large")
    return base**exponent


def _ordered(test: Callable[[Fraction, Fraction], bool]) -> Callable[[Value, Value], bool]:
    return lambda a, b: test(_num(a, "comparison"), _num(b, "comparison"))


# Division by zero raises ZeroDivisionError: the template sampler's signal to redraw.
_ARITH: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: _power,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Value, Value], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: _ordered(operator.lt),
    ast.LtE: _ordered(operator.le),
    ast.Gt: _ordered(operator.gt),
    ast.GtE: _ordered(operator.ge),
}

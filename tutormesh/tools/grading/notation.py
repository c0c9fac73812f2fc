"""How a value was written: one plain number or a calculation, and how precisely."""

from __future__ import annotations

from dataclasses import dataclass

from sympy.core.expr import Expr

from tutormesh.tools.grading.tokens import Token


@dataclass(frozen=True)
class Approx:
    """How precisely a single decimal literal was written."""

    dp: int  # decimal places: one unit in the last place is 10^-dp
    sig: int  # significant figures
    decimal: bool  # written with a point or exponent (not a bare integer)


@dataclass(frozen=True)
class Value:
    """An expression plus the facts about its notation that grading needs.

    Attributes:
        expr: The exact value.
        text: The source text ("" when generated, e.g. by expanding ±).
        numeral: Written as one number: integer, fraction, mixed number, decimal or percent.
        approx: Set when written as a single decimal/integer literal, so rounding can be judged.
        percent_of: N when written "N%", so a bare N can count for a percentage question.
    """

    expr: Expr
    text: str = ""
    numeral: bool = False
    approx: Approx | None = None
    percent_of: Expr | None = None


def negated(value: Value) -> Value:
    """Return -value, keeping how precisely it was written."""
    return Value(-value.expr, "", value.numeral, value.approx, None)


def is_numeral(toks: list[Token]) -> bool:
    r"""Say whether tokens spell one number: 3, -0.5, 3/4, (-3)/4, \frac{3}{4}, 1 1/2, 50%, 6.02×10^23."""
    toks = _without_power_of_ten(toks)
    nums = [t for t in toks if t.kind == "num"]
    divisions = sum(1 for t in toks if t.text in ("/", "frac") and t.kind in ("op", "cmd"))
    if not 1 <= len(nums) <= 2 or divisions > 1 or (len(nums) == 2 and divisions == 0):
        return False
    prev: Token | None = None
    for k, tok in enumerate(toks):
        if tok.kind == "op" and tok.text in ("-", "+", "±"):
            if prev is not None and (prev.kind == "num" or prev.text in (")", "}", "%")):
                return False  # a binary + or -: a calculation, not a number
            if tok.text == "+" and k:
                return False
        elif not (tok.kind == "num" or tok.text == "frac" or tok.text in ("/", "(", ")", "{", "}", "%")):
            return False
        prev = tok
    return True


def _without_power_of_ten(toks: list[Token]) -> list[Token]:
    """Drop a trailing "× 10^n" (scientific notation is a way of writing one number)."""
    texts = [t.text for t in toks]
    for k in range(len(toks) - 1, 0, -1):
        if texts[k - 1 : k + 2] == ["*", "10", "^"]:
            tail = [t for t in texts[k + 2 :] if t not in ("(", ")", "{", "}", "-", "+")]
            if len(tail) == 1 and tail[0].isdigit():
                return toks[: k - 1]
    return toks


def literal_precision(toks: list[Token]) -> tuple[Approx | None, Expr | None]:
    """Return precision info for [sign] number [%], and N for "N%"."""
    body = toks[1:] if toks and toks[0].kind == "op" and toks[0].text in ("-", "+", "±") else toks
    percent = bool(body) and body[-1].kind == "op" and body[-1].text == "%"
    core = body[:-1] if percent else body
    if len(core) != 1 or core[0].kind != "num" or not (core[0].text[0].isdigit() or core[0].text[0] == "."):
        return None, None
    tok = core[0]
    if tok.text == "mixed":
        return None, None
    assert tok.value is not None
    approx = Approx(dp=tok.dp + (2 if percent else 0), sig=tok.sig, decimal=tok.decimal)
    sign = -1 if toks[0].text == "-" else 1
    return approx, (sign * tok.value if percent else None)


def make_value(expr: Expr, text: str, toks: list[Token]) -> Value:
    """Return `expr` with the notation facts read from the tokens it was parsed from."""
    approx, percent_of = literal_precision(toks)
    return Value(expr, text, is_numeral(toks), approx, percent_of)

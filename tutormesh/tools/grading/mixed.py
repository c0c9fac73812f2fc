r"""Mixed numbers: fold "1 1/2", "1\frac{1}{2}" and "1½" into one number token."""

from __future__ import annotations

from sympy import Rational

from tutormesh.tools.grading.tokens import Token
from tutormesh.tools.grading.vocabulary import VULGAR

# A mixed number must stand alone as an operand, so these may come before/after it.
_MIXED_BEFORE = {"(", "[", "{", "set{", ",", ";", "=", "<", ">", "<=", ">=", "!=", "+", "-", "±"}
_MIXED_AFTER = {")", "]", "}", "set}", ",", ";", "=", "<", ">", "<=", ">=", "!=", "+", "-", "±", "%"}


def _is_int(tok: Token | None) -> bool:
    return tok is not None and tok.kind == "num" and not tok.decimal and tok.text.isdigit()


def merge_mixed_numbers(toks: list[Token]) -> list[Token]:
    r"""Fold "1 1/2", "1\frac{1}{2}" and "1½" into one number token worth 3/2."""
    out: list[Token] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        prev = out[-1] if out else None
        fresh = prev is None or prev.kind == "word" or (prev.kind == "op" and prev.text in _MIXED_BEFORE)
        part = _mixed_fraction(toks, i + 1) if fresh and _is_int(tok) else None
        if part is not None:
            (num, den), width = part
            after = toks[i + 1 + width] if i + 1 + width < len(toks) else None
            if after is None or after.kind == "word" or (after.kind == "op" and after.text in _MIXED_AFTER):
                assert tok.value is not None
                value = tok.value + Rational(num, den)
                out.append(Token("num", "mixed", tok.pos, tok.space_before, value=value, sig=99))
                i += 1 + width
                continue
        out.append(tok)
        i += 1
    return out


def _mixed_fraction(toks: list[Token], j: int) -> tuple[tuple[int, int], int] | None:
    """Return ((num, den), tokens used) if a proper fraction written as a mixed-number part starts at j."""
    def at(k: int) -> Token | None:
        return toks[j + k] if j + k < len(toks) else None

    first = at(0)
    if first is None:
        return None
    if first.kind == "num" and first.value is not None and first.text in VULGAR:
        return (int(first.value.p), int(first.value.q)), 1
    if _is_int(first) and first.space_before and _is(at(1), "/") and _is_int(at(2)):
        num, den = int(first.text), int(at(2).text)  # type: ignore[union-attr]
        return ((num, den), 3) if 0 < num < den else None
    shape = [at(k) for k in range(7)]
    if (
        _is(shape[0], "frac", "cmd") and _is(shape[1], "{") and _is_int(shape[2]) and _is(shape[3], "}")
        and _is(shape[4], "{") and _is_int(shape[5]) and _is(shape[6], "}")
    ):
        num, den = int(shape[2].text), int(shape[5].text)  # type: ignore[union-attr]
        return ((num, den), 7) if 0 < num < den else None
    return None


def _is(tok: Token | None, text: str, kind: str = "op") -> bool:
    return tok is not None and tok.kind == kind and tok.text == text

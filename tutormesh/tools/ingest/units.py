"""Unit conversions ("Convert 2.5 km to m", "How many grams are in 3.2 kg?"), checked by sympy's units.

Levels: 1 a larger unit to its neighbour (multiply), whole numbers up to 20; 2 a smaller unit to
its neighbour (divide), whole answer; 3 a larger to a smaller unit from a one-decimal value;
4 a smaller to a larger unit with a decimal answer; 5 two steps apart in the unit chain (km to
cm, h to s) from a one-decimal value. The deck's units are kept at its own level.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

from sympy import Rational
from sympy.physics import units as su

from tutormesh.tools.ingest.family import Match, Spec, clean, fraction_text, widen

NAME = "units"


class Unit(NamedTuple):
    """A unit: its dimension, size in the dimension's base unit, sympy twin and the words for it."""

    dimension: str
    factor: Fraction
    quantity: su.Quantity
    words: tuple[str, ...]  # the first is the plural used in generated wording


UNITS: dict[str, Unit] = {
    "mm": Unit("length", Fraction(1, 1000), su.millimeter, ("millimetres", "millimetre", "millimeters", "millimeter")),
    "cm": Unit("length", Fraction(1, 100), su.centimeter, ("centimetres", "centimetre", "centimeters", "centimeter")),
    "m": Unit("length", Fraction(1), su.meter, ("metres", "metre", "meters", "meter")),
    "km": Unit("length", Fraction(1000), su.kilometer, ("kilometres", "kilometre", "kilometers", "kilometer")),
    "mg": Unit("mass", Fraction(1, 1000), su.milligram, ("milligrams", "milligram")),
    "g": Unit("mass", Fraction(1), su.gram, ("grams", "gram")),
    "kg": Unit("mass", Fraction(1000), su.kilogram, ("kilograms", "kilogram")),
    "s": Unit("time", Fraction(1), su.second, ("seconds", "second", "secs", "sec")),
    "min": Unit("time", Fraction(60), su.minute, ("minutes", "minute", "mins")),
    "h": Unit("time", Fraction(3600), su.hour, ("hours", "hour", "hrs", "hr")),
    "mL": Unit("volume", Fraction(1, 1000), su.milliliter, ("millilitres", "millilitre", "milliliters", "milliliter",
                                                             "ml")),
    "L": Unit("volume", Fraction(1), su.liter, ("litres", "litre", "liters", "liter", "l")),
}
_ALIASES = {**{s: s for s in UNITS}, **{w: s for s, u in UNITS.items() for w in u.words}}
_UNIT = "|".join(sorted((re.escape(a) for a in _ALIASES), key=len, reverse=True))
_NUM = r"\d+(?:\.\d+)?"
_CONVERT = re.compile(rf"(?P<v>{_NUM})\s*(?P<u1>{_UNIT})\b[^.?!\d]*?\b(?:to|into|in)\s+(?P<u2>{_UNIT})\b")
_HOW_MANY = re.compile(rf"\bhow many\s+(?P<u2>{_UNIT})\b[^.?!\d]*?(?P<v>{_NUM})\s*(?P<u1>{_UNIT})\b", re.IGNORECASE)
_KEYWORDS = re.compile(r"\b(unit conversions?|converting units|convert(ing)? between)\b", re.IGNORECASE)


def _unit(alias: str) -> str:
    return _ALIASES.get(alias) or _ALIASES.get(alias.lower(), "")


def _chain(dimension: str) -> list[str]:
    return sorted((s for s, u in UNITS.items() if u.dimension == dimension), key=lambda s: UNITS[s].factor)


def _read(text: str) -> tuple[re.Match[str], str, str, Fraction] | None:
    for pattern in (_CONVERT, _HOW_MANY):
        for found in pattern.finditer(text):
            u1, u2 = _unit(found.group("u1")), _unit(found.group("u2"))
            if u1 and u2 and u1 != u2 and UNITS[u1].dimension == UNITS[u2].dimension:
                return found, u1, u2, Fraction(found.group("v"))
    return None


def _level(u1: str, u2: str, value: Fraction) -> int:
    chain = _chain(UNITS[u1].dimension)
    if abs(chain.index(u1) - chain.index(u2)) > 1:
        return 5
    ratio = UNITS[u1].factor / UNITS[u2].factor
    if ratio > 1:
        return 1 if value.denominator == 1 and value <= 20 else 3
    return 2 if (value * ratio).denominator == 1 else 4


def recognise(text: str) -> Match | None:
    """Find a conversion between two units of one dimension and read its value."""
    read = _read(text)
    if read is None:
        return None
    found, u1, u2, value = read
    spans = {"v": found.span("v"), "u1": found.span("u1"), "u2": found.span("u2")}
    order = sorted(spans, key=lambda k: spans[k][0])
    pieces = [text[: spans[order[0]][0]]]
    for i, name in enumerate(order):
        pieces.append(f"<{name}>")
        pieces.append(text[spans[name][1]: spans[order[i + 1]][0]] if i + 1 < len(order) else text[spans[name][1]:])
    words = found.group("u1") not in UNITS or found.group("u2") not in UNITS
    return Match(family=NAME, form=UNITS[u1].dimension, level=_level(u1, u2, value), env={"v": fraction_text(value)},
                 before=clean("".join(pieces)), slots={"u1": u1, "u2": u2, "words": "1" if words else ""})


def seed(text: str) -> Match | None:
    """Return a rules-only match when a lesson converts units (metres and centimetres by default)."""
    for line in text.splitlines():
        if (found := recognise(line)) is not None:
            return found.model_copy(update={"before": ""})
    return Match(family=NAME, form="length", level=1, slots={"u1": "m", "u2": "cm", "words": ""}) \
        if _KEYWORDS.search(text) else None


def _pair(match: Match, level: int) -> tuple[str, str]:
    u1, u2 = match.slots["u1"], match.slots["u2"]
    if level == match.level:
        return u1, u2
    chain = _chain(match.form)
    if level == 5 and len(chain) >= 3:
        return chain[2], chain[0]
    low = min(chain.index(u1), chain.index(u2), len(chain) - 2)
    small, big = chain[low], chain[low + 1]
    return (big, small) if level in (1, 3, 5) else (small, big)


def _name(symbol: str, words: bool) -> str:
    return UNITS[symbol].words[0] if words else symbol


def template(match: Match, level: int) -> Spec:
    """Write one level: the value's params, both wordings and the conversion hints."""
    u1, u2 = _pair(match, level)
    ratio = UNITS[u1].factor / UNITS[u2].factor
    p, q = ratio.numerator, ratio.denominator
    own = match.numbers().get("v") if level == match.level else None
    tens = [10 * k for k in range(1, 10)]
    if level == 1:
        params, derived = {"v": {"range": widen(2, 20, *([own] if own else []))}}, {}
    elif level == 2:
        k = own * ratio if own else None
        params, derived = {"k": {"range": widen(2, 50, *([k] if k else []))}}, {"v": f"k*{q}/{p}"}
    elif level == 4:
        params, derived = {"v": {"range": widen(101, 999, *([own] if own else []))}}, {}
    else:
        n = own * 10 if own else None
        params, derived = {"n": {"range": widen(11, 99, *([n] if n else [])), "exclude": tens}}, {"v": "n/10"}
    derived = {**derived, "ans": f"v*{p}/{q}"}
    require = ["is_dec(ans)"] + (["ans % 1 != 0"] if level == 4 else [])
    words = bool(match.slots.get("words"))
    one, two = _name(u1, words), _name(u2, words)
    if match.before:
        wording = match.before.replace("<v>", "{dec(v)}").replace("<u1>", one).replace("<u2>", two)
    else:
        wording = f"Convert {{dec(v)}} {one} to {two}."
    step = (f"There are {fraction_text(ratio)} {UNITS[u2].words[0]} in 1 {UNITS[u1].words[1]}: multiply by "
            f"{fraction_text(ratio)}." if ratio > 1 else
            f"There are {fraction_text(1 / ratio)} {UNITS[u1].words[0]} in 1 {UNITS[u2].words[1]}: divide by "
            f"{fraction_text(1 / ratio)}.")
    sign = "×" if ratio > 1 else "÷"
    shown = fraction_text(ratio if ratio > 1 else 1 / ratio)
    return {"params": params, "derived": derived, "require": require,
            "variants": {"A": wording, "B": f"How many {UNITS[u2].words[0]} are there in {{dec(v)}} "
                                            f"{UNITS[u1].words[0]}?"},
            "hints": [step, f"{{dec(v)}} {sign} {shown} = {{dec(ans)}} {u2}."]}


def key(match: Match, level: int) -> Spec:
    """Write the key and the misconceptions: converting the wrong way, or the wrong power of ten."""
    u1, u2 = _pair(match, level)
    ratio = UNITS[u1].factor / UNITS[u2].factor
    inverse = f"{{v*{ratio.denominator}/{ratio.numerator}}}"
    size = "bigger" if ratio > 1 else "smaller"
    misconceptions = [{"answer": inverse, "feedback": f"A {UNITS[u1].words[1]} is {size}"
                       f" than a {UNITS[u2].words[1]}, so the number of {UNITS[u2].words[0]} must be "
                       f"{'larger' if ratio > 1 else 'smaller'}: {'multiply' if ratio > 1 else 'divide'}."}]
    if match.form == "time":
        misconceptions.append({"answer": f"{{v*{100 if ratio > 1 else 1}/{1 if ratio > 1 else 100}}}",
                               "feedback": "Time is not decimal: there are 60 minutes in an hour and 60 seconds in a "
                                           "minute, not 100."})
    else:
        misconceptions.append({"answer": "{ans*10}", "feedback": f"Check the factor between {u1} and {u2}: "
                                                                  f"1 {u1} = {fraction_text(ratio)} {u2}."})
    return {"answer": "{dec(ans)}", "misconceptions": misconceptions}


def solve(prompt: str, match: Match) -> str | None:
    """Read the conversion back out of a rendered prompt and convert with sympy's unit system."""
    read = _read(prompt)
    if read is None:
        return None
    _, u1, u2, value = read
    converted = su.convert_to(Rational(value.numerator, value.denominator) * UNITS[u1].quantity, UNITS[u2].quantity)
    return str(converted / UNITS[u2].quantity)

"""Three-quantity laws ("A resistor of 220 ohm carries 0.05 A; find V"): V = IR, P = VI, d = vt, m = ρV, F = ma, M = Fd.

A problem gives two quantities of one law with their units and asks for the third by name
("find the current", "how far", "find V"), which the levels keep. Levels: 1 small whole numbers
(up to 12) and a whole answer; 2 larger whole numbers; 3 a one-decimal value; 4 the givens in the
prefixed units a law has (mA, kΩ, kW, min, kg, kN, cm) to convert first; 5 prefixed units and a
one-decimal value. Verification reads the quantities back and solves the law with sympy.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

import sympy

from tutormesh.tools.ingest.family import Match, Spec, clean, fraction_text

NAME = "formula"


class Quantity(NamedTuple):
    """One quantity of a law: its name, base unit spellings and an optional prefixed unit."""

    name: str
    unit: str
    aliases: tuple[str, ...]
    prefix: tuple[str, Fraction, tuple[str, ...]] | None = None


class Law(NamedTuple):
    """product = first × second."""

    title: str
    product: str
    factors: tuple[str, str]
    quantities: dict[str, Quantity]
    pattern: str  # how a lesson writes the law, e.g. V = IR


_AMP = Quantity("current", "A", ("A", "amps", "amp", "amperes", "ampere"), ("mA", Fraction(1, 1000), ("mA",)))
_VOLT = Quantity("voltage", "V", ("V", "volts", "volt"))
LAWS: dict[str, Law] = {
    "ohm": Law("Ohm's law", "V", ("I", "R"), {
        "V": _VOLT, "I": _AMP,
        "R": Quantity("resistance", "Ω", ("Ω", "ohms", "ohm"), ("kΩ", Fraction(1000), ("kΩ", "kilohms", "kilohm")))},
        r"\bV\s*=\s*I\s*[×x*·]?\s*R\b"),
    "power": Law("electrical power", "P", ("V", "I"), {
        "P": Quantity("power", "W", ("W", "watts", "watt"), ("kW", Fraction(1000), ("kW", "kilowatts", "kilowatt"))),
        "V": _VOLT, "I": _AMP}, r"\bP\s*=\s*(V\s*[×x*·]?\s*I|I\s*[×x*·]?\s*V)\b"),
    "speed": Law("speed", "d", ("v", "t"), {
        "d": Quantity("distance", "m", ("m", "metres", "meters"), ("km", Fraction(1000), ("km",))),
        "v": Quantity("speed", "m/s", ("m/s",)),
        "t": Quantity("time", "s", ("s", "seconds"), ("min", Fraction(60), ("min", "minutes")))},
        r"\b(d\s*=\s*(v\s*[×x*·]?\s*t|s\s*[×x*·]?\s*t)|speed\s*=\s*distance\s*/\s*time)\b"),
    "density": Law("density", "m", ("rho", "vol"), {
        "m": Quantity("mass", "g", ("g", "grams"), ("kg", Fraction(1000), ("kg",))),
        "rho": Quantity("density", "g/cm³", ("g/cm³", "g/cm3", "g/cm^3")),
        "vol": Quantity("volume", "cm³", ("cm³", "cm3", "cm^3"))}, r"(ρ\s*=\s*m\s*/\s*V|density\s*=\s*mass\s*/)"),
    "force": Law("Newton's second law", "F", ("m", "a"), {
        "F": Quantity("force", "N", ("N", "newtons")),
        "m": Quantity("mass", "kg", ("kg",)),
        "a": Quantity("acceleration", "m/s²", ("m/s²", "m/s2", "m/s^2"))}, r"\bF\s*=\s*m\s*[×x*·]?\s*a\b"),
    "moment": Law("the moment of a force", "M", ("F", "d"), {
        "M": Quantity("moment", "N·m", ("N·m", "N⋅m", "N m", "Nm")),
        "F": Quantity("force", "N", ("N", "newtons"), ("kN", Fraction(1000), ("kN",))),
        "d": Quantity("distance", "m", ("m", "metres"), ("cm", Fraction(1, 100), ("cm",)))},
        r"\bM\s*=\s*F\s*[×x*·]?\s*d\b|moment\s*=\s*force"),
}
_NUM = r"(?<![\d.])\d+(?:\.\d+)?"
_ASKED = {"distance": ("how far",), "time": ("how long",), "voltage": ("potential difference",)}


def _tokens(law: Law, text: str) -> list[tuple[str, str, Fraction, tuple[int, int]]]:
    """Return (quantity, unit shown, value, span) for each number with a unit of this law."""
    spellings = {a: (q, "") for q, quantity in law.quantities.items() for a in quantity.aliases}
    spellings |= {a: (q, quantity.prefix[0]) for q, quantity in law.quantities.items() if quantity.prefix
                  for a in quantity.prefix[2]}
    alternation = "|".join(sorted(map(re.escape, spellings), key=len, reverse=True))
    pattern = re.compile(rf"(?P<v>{_NUM})\s*(?P<u>{alternation})(?![\w/²³^])")
    return [(spellings[m.group("u")][0], spellings[m.group("u")][1], Fraction(m.group("v")), m.span())
            for m in pattern.finditer(text)]


def _unknown(law: Law, found: list[tuple[str, str, Fraction, tuple[int, int]]]) -> str:
    return next(q for q in (law.product, *law.factors) if q not in {f[0] for f in found})


def _read(text: str) -> tuple[str, list[tuple[str, str, Fraction, tuple[int, int]]]] | None:
    """Return the law two of the text's quantities belong to and whose third quantity the text asks for."""
    for name, law in LAWS.items():
        found = _tokens(law, text)
        if len(found) != 2 or found[0][0] == found[1][0]:
            continue
        unknown = _unknown(law, found)
        asked = "|".join([law.quantities[unknown].name, *_ASKED.get(law.quantities[unknown].name, ())])
        if re.search(rf"\b({asked})\b", text, re.IGNORECASE) or re.search(
                rf"\b(find|what is|calculate|work out)\s+{re.escape(unknown)}\b", text):
            return name, found
    return None


def _factor(law: Law, quantity: str, shown: str) -> Fraction:
    prefix = law.quantities[quantity].prefix
    return prefix[1] if shown and prefix else Fraction(1)


def _level(found: list[tuple[str, str, Fraction, tuple[int, int]]]) -> int:
    prefixed = any(shown for _, shown, _, _ in found)
    decimal = any(value.denominator != 1 for _, _, value, _ in found)
    if prefixed:
        return 5 if decimal else 4
    if decimal:
        return 3
    return 1 if all(value <= 12 for _, _, value, _ in found) else 2


def recognise(text: str) -> Match | None:
    """Find two quantities of one law (with their units) and take the third as the unknown."""
    read = _read(text)
    if read is None:
        return None
    name, found = read
    law = LAWS[name]
    unknown = _unknown(law, found)
    (q1, s1, v1, (a0, a1)), (q2, s2, v2, (b0, b1)) = found
    wording = f"{text[:a0]}<1>{text[a1:b0]}<2>{text[b1:]}"
    return Match(family=NAME, form=name, level=_level(found), env={"x": fraction_text(v1), "y": fraction_text(v2)},
                 before=clean(wording), slots={"q1": q1, "q2": q2, "s1": s1, "s2": s2, "unknown": unknown})


def seed(text: str) -> Match | None:
    """Return a rules-only match when a lesson writes one of the laws (the product is asked for)."""
    for line in text.splitlines():
        if (found := recognise(line)) is not None:
            return found.model_copy(update={"before": ""})
    for name, law in LAWS.items():
        if re.search(law.pattern, text, re.IGNORECASE if name in ("speed", "density", "moment") else 0):
            q1, q2 = law.factors
            return Match(family=NAME, form=name, level=1, slots={"q1": q1, "q2": q2, "s1": "", "s2": "",
                                                                  "unknown": law.product})
    return None


def _shown(law: Law, match: Match, level: int) -> tuple[str, str]:
    """The units shown for the two givens at a level: the deck's at its own level, else by the rule."""
    if level == match.level:
        return match.slots["s1"], match.slots["s2"]
    if level < 4:
        return "", ""
    prefixes = [law.quantities[match.slots[q]].prefix for q in ("q1", "q2")]
    first, second = (p[0] if p else "" for p in prefixes)
    return first, second


def _unit(law: Law, quantity: str, shown: str) -> str:
    return shown or law.quantities[quantity].unit


def template(match: Match, level: int) -> Spec:
    """Write one level: the two givens' params in the units shown, both wordings and the hints."""
    law = LAWS[match.form]
    q1, q2, unknown = match.slots["q1"], match.slots["q2"], match.slots["unknown"]
    s1, s2 = _shown(law, match, level)
    f1, f2 = _factor(law, q1, s1), _factor(law, q2, s2)
    product = unknown == law.product
    base = {"X": f"x*{f1.numerator}/{f1.denominator}", "Y": f"y*{f2.numerator}/{f2.denominator}"}
    if product:
        answer = "X*Y"
    else:
        answer = "X/Y" if q1 == law.product else "Y/X"
    # Level 3: the first given has one decimal; level 5: the given that is not in a prefixed unit does.
    decimals = {"x"} if level == 3 else ({"y"} if s1 else {"x"}) if level == 5 else set()
    params: dict[str, object] = {}
    derived: dict[str, str] = {}
    for name in ("x", "y"):
        if name in decimals:
            params["n" + name] = {"range": [11, 99], "exclude": [10 * k for k in range(1, 10)]}
            derived[name] = f"n{name}/10"
        else:
            params[name] = {"range": {1: [2, 12], 2: [2, 99]}.get(level, [2, 60])}
    derived |= {**base, "ans": answer}
    require = ["is_dec(ans)", "ans > 0"] + (["ans % 1 == 0"] if level <= 2 else [])
    u1, u2, uu = _unit(law, q1, s1), _unit(law, q2, s2), law.quantities[unknown].unit
    asked = f"Find the {law.quantities[unknown].name} in {uu}."
    if match.before:
        wording = match.before.replace("<1>", f"{{dec(x)}} {u1}").replace("<2>", f"{{dec(y)}} {u2}")
        wording += "" if uu in match.before else f" Give the answer in {uu}."
    else:
        wording = (f"The {law.quantities[q1].name} is {{dec(x)}} {u1} and the {law.quantities[q2].name} is "
                   f"{{dec(y)}} {u2}. {asked}")
    hints = [f"Use {law.title}: {law.product} = {law.factors[0]} × {law.factors[1]}" +
             ("." if product else f", so {unknown} = {law.product} ÷ "
                                  f"{next(f for f in law.factors if f != unknown)}.")]
    for quantity, shown, factor, name in ((q1, s1, f1, "x"), (q2, s2, f2, "y")):
        if shown:
            hints.append(f"Convert first: {{dec({name})}} {shown} = {{dec({name.upper()})}} "
                         f"{law.quantities[quantity].unit} (1 {shown} = {fraction_text(factor)} "
                         f"{law.quantities[quantity].unit}).")
    hints.append(f"{unknown} = {{dec(ans)}} {uu}.")
    return {"params": params, "derived": derived, "require": require,
            "variants": {"A": wording, "B": f"{law.quantities[q1].name.capitalize()}: {{dec(x)}} {u1}. "
                                            f"{law.quantities[q2].name.capitalize()}: {{dec(y)}} {u2}. {asked}"},
            "hints": hints[:4]}


def key(match: Match, level: int) -> Spec:
    """Write the key and the misconceptions: the inverse operation, and a unit left unconverted."""
    law = LAWS[match.form]
    product = match.slots["unknown"] == law.product
    s1, s2 = _shown(law, match, level)
    inverse = ("{X/Y}", "Multiply the two quantities: " + f"{law.product} = {law.factors[0]} × {law.factors[1]}.") \
        if product else ("{X*Y}", f"Divide, do not multiply: {match.slots['unknown']} = {law.product} ÷ the other "
                                  "quantity.")
    misconceptions = [{"answer": inverse[0], "feedback": inverse[1]}]
    answer = "X*Y" if product else ("X/Y" if match.slots["q1"] == law.product else "Y/X")
    for shown, quantity, name in ((s1, match.slots["q1"], "X"), (s2, match.slots["q2"], "Y")):
        if shown:
            misconceptions.append({"answer": "{" + answer.replace(name, name.lower()) + "}",
                                   "feedback": f"Convert {shown} to {law.quantities[quantity].unit} before using "
                                               "the formula."})
    if not product and not (s1 or s2):
        misconceptions.append({"answer": "{Y/X}" if match.slots["q1"] == law.product else "{X/Y}",
                               "feedback": "You divided the wrong way round."})
    return {"answer": "{dec(ans)}", "misconceptions": misconceptions}


def solve(prompt: str, match: Match) -> str | None:
    """Read the two quantities back out of a rendered prompt and solve the law for the third with sympy."""
    law = LAWS[match.form]
    found = _tokens(law, prompt)
    if len(found) != 2 or found[0][0] == found[1][0]:
        return None
    symbols = {q: sympy.Symbol(q) for q in law.quantities}
    equation = sympy.Eq(symbols[law.product], symbols[law.factors[0]] * symbols[law.factors[1]])
    known = {symbols[q]: sympy.Rational(v.numerator, v.denominator) * sympy.Rational(
        _factor(law, q, shown).numerator, _factor(law, q, shown).denominator) for q, shown, v, _ in found}
    roots = sympy.solve(equation.subs(known), symbols[match.slots["unknown"]])
    return str(roots[0]) if len(roots) == 1 else None

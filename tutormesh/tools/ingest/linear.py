"""Linear equations in one unknown ("Solve 3x + 5 = 20"): recognised, parameterised, solved by sympy.

Forms: ``plus`` (x + b = c), ``times`` (ax = c), ``over`` (x/a = c), ``two`` (ax + b = c),
``over_plus`` (x/a + b = c), ``both`` (ax + b = dx + e) and ``brackets`` (a(x + b) = c).
All of a problem's numbers must be in its equation ("Is x = 3 a solution of ..." is not one).
Levels: 1 one step, small positive integers; 2 two steps,
positive integers; 3 two steps with negatives; 4 unknowns on both sides or brackets; 5 a
fractional answer. The deck's form is kept at its own level and the others follow the rule.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from tutormesh.tools.grading import MathParseError, parse_math
from tutormesh.tools.ingest.family import Match, Spec, clean, fraction_text, widen

NAME = "linear"
_MATH = set("0123456789+-−–*×·/().=^ ")
_KEYWORDS = re.compile(r"\b(linear equations?|solve for [a-z]|solving equations?|two[- ]step equations?|"
                       r"one[- ]step equations?|unknown)\b", re.IGNORECASE)
_UNIT_LETTERS = set("gmshNAVWJLKF")  # a lone unit ("36 g") is not an unknown
_BRACKETS = re.compile(r"^\s*(-?\d+)\s*\*?\s*\(\s*[a-z]\s*([+-])\s*(\d+)\s*\)\s*$")
# Ranges per level: coefficient, constant, solution (inclusive) and what each excludes.
_RANGES: dict[int, tuple[tuple[int, int], tuple[int, int], tuple[int, int], list[int]]] = {
    1: ((2, 9), (1, 9), (1, 12), []),
    2: ((2, 9), (1, 20), (1, 12), []),
    3: ((-9, 9), (-20, 20), (-12, 12), [-1, 0, 1]),
    4: ((-9, 9), (-20, 20), (-10, 10), [-1, 0, 1]),
    5: ((-9, 9), (-20, 20), (-20, 20), [-1, 0, 1]),
}
_LEVEL_FORM = {1: "plus", 2: "two", 3: "two", 4: "both", 5: "two"}
_FORMS_AT = {1: {"plus", "times", "over"}, 2: {"two", "over_plus"}, 3: {"two", "over_plus"},
             4: {"both", "brackets"}, 5: {"two", "both", "brackets"}}


def _normal(span: str) -> str:
    return span.replace("−", "-").replace("–", "-").replace("×", "*").replace("·", "*").replace("^", "**")


def _isolated(text: str, i: int) -> bool:
    return text[i].isalpha() and (i == 0 or not text[i - 1].isalpha()) and (i + 1 == len(text)
                                                                           or not text[i + 1].isalpha())


def find_equation(text: str) -> tuple[int, int] | None:
    """Return the (start, end) of the first equation with one letter in a text."""
    for eq in (m.start() for m in re.finditer("=", text)):
        start, end = eq, eq + 1
        while start > 0 and (text[start - 1] in _MATH or _isolated(text, start - 1)):
            start -= 1
        while end < len(text) and (text[end] in _MATH or _isolated(text, end)):
            end += 1
        while start < eq and text[start] in " .)=":
            start += 1
        while end > eq + 1 and text[end - 1] in " .(=":
            end -= 1
        span = text[start:end]
        if span.count("=") == 1 and len({c for c in span if c.isalpha()}) == 1 and re.search(r"\d", span):
            return start, end
    return None


def _sides(span: str) -> tuple[sympy.Expr, sympy.Expr, sympy.Symbol] | None:
    left, right = span.split("=")
    try:
        lhs, rhs = parse_math(_normal(left)), parse_math(_normal(right))
    except MathParseError:
        return None
    if not isinstance(lhs, sympy.Expr) or not isinstance(rhs, sympy.Expr):
        return None
    symbols = lhs.free_symbols | rhs.free_symbols
    if len(symbols) != 1:
        return None
    var = next(iter(symbols))
    assert isinstance(var, sympy.Symbol)
    if not all(side.is_polynomial(var) and sympy.degree(side, var) <= 1 for side in (lhs, rhs)):
        return None
    if var not in lhs.free_symbols:
        lhs, rhs = rhs, lhs
    return lhs, rhs, var


def _coeffs(side: sympy.Expr, var: sympy.Symbol) -> tuple[Fraction, Fraction]:
    poly = sympy.Poly(side, var)
    a, b = (poly.coeff_monomial(var), poly.coeff_monomial(1))
    return Fraction(str(a)), Fraction(str(b))


def _classify(span: str, lhs: sympy.Expr, rhs: sympy.Expr, var: sympy.Symbol) -> tuple[str, dict[str, Fraction]]:
    a, b = _coeffs(lhs, var)
    d, e = _coeffs(rhs, var)
    if d:
        return "both", {"a": a, "d": d, "b": b, "e": e, "s": (e - b) / (a - d)}
    left = _normal(span.split("=")[0])
    bracket = _BRACKETS.match(left)
    if bracket:
        inner = Fraction(bracket.group(3)) * (1 if bracket.group(2) == "+" else -1)
        return "brackets", {"a": a, "b": inner, "c": e, "s": e / a - inner}
    if a.numerator == 1 and a.denominator > 1 and b.denominator == 1 and "/" in left:
        n = Fraction(a.denominator)
        if not b:
            return "over", {"a": n, "c": e, "s": e * n}
        return "over_plus", {"a": n, "b": b, "k": e - b, "c": e, "s": (e - b) * n}
    if a == 1 and b:
        return "plus", {"b": b, "c": e, "s": e - b}
    if not b:
        return "times", {"a": a, "c": e, "s": e / a}
    return "two", {"a": a, "b": b, "c": e, "s": (e - b) / a}


def _level(form: str, env: dict[str, Fraction]) -> int:
    if any(v.denominator != 1 for v in env.values()):
        return 5
    if form in ("both", "brackets"):
        return 4
    if form in ("plus", "times", "over"):
        return 1
    return 2 if all(v > 0 for v in env.values()) else 3


def recognise(text: str, *, strict: bool = True) -> Match | None:
    """Find a linear equation in one unknown and read its numbers.

    Strict (an exercise): every number of the problem must be in the equation.
    """
    found = find_equation(text)
    if not found or (solved := _sides(text[found[0]:found[1]])) is None:
        return None
    lhs, rhs, var = solved
    if sympy.Poly(lhs - rhs, var).degree() != 1 or (lhs == var and not rhs.has(var)):
        return None  # no unknown, or one already solved ("x = 5")
    before, after = text[:found[0]], text[found[1]:]
    if strict and re.search(r"[\d=]", before + after):
        return None
    form, env = _classify(text[found[0]:found[1]], lhs, rhs, var)
    return Match(family=NAME, form=form, level=_level(form, env), env={k: fraction_text(v) for k, v in env.items()},
                 before=clean(before), after=clean(after), slots={"var": str(var)})


def seed(text: str) -> Match | None:
    """Return a rules-only match when a lesson about equations shows one or names a kind of equation."""
    if not re.search(r"\bequations?\b|\bsolve\b", text, re.IGNORECASE):
        return None
    for line in text.splitlines():
        found = recognise(line, strict=False)
        if found is not None and found.slots["var"] not in _UNIT_LETTERS:
            return found.model_copy(update={"before": "", "after": ""})
    return Match(family=NAME, form="two", level=2, slots={"var": "x"}) if _KEYWORDS.search(text) else None


def _form(match: Match, level: int) -> str:
    return match.form if level == match.level and match.form in _FORMS_AT.get(level, {match.form}) \
        else _LEVEL_FORM[level]


def _equation(form: str, var: str) -> str:
    return {"plus": f"{var} {{sgn(b)}} = {{c}}", "times": f"{{terms(a,'{var}')}} = {{c}}",
            "two": f"{{terms(a,'{var}',b,'')}} = {{c}}",
            "both": f"{{terms(a,'{var}',b,'')}} = {{terms(d,'{var}',e,'')}}",
            "brackets": f"{{a}}({var} {{sgn(b)}}) = {{c}}", "over": f"{var}/{{a}} = {{c}}",
            "over_plus": f"{var}/{{a}} {{sgn(b)}} = {{c}}"}[form]


def template(match: Match, level: int) -> Spec:
    """Write one level: params (the deck's numbers inside their ranges at its own level), wording, hints."""
    form, var = _form(match, level), match.slots["var"]
    (coef, const, sol, skip) = _RANGES[level]
    own = match.numbers() if level == match.level else {}

    def spec(name: str, bounds: tuple[int, int], exclude: list[int]) -> dict[str, object]:
        out: dict[str, object] = {"range": widen(*bounds, *([own[name]] if name in own else []))}
        return {**out, "exclude": exclude} if exclude else out

    c_ex, k_ex = (skip, [0]) if level >= 3 else ([], [])
    fractional = level == 5
    params: dict[str, object]
    if form == "plus":
        params, derived = {"b": spec("b", const, [0]), "s": spec("s", sol, [])}, {"c": "s + b"}
    elif form == "times":
        params, derived = {"a": spec("a", coef, [-1, 0, 1]), "s": spec("s", sol, [])}, {"c": "a*s"}
    elif form == "over":
        params, derived = {"a": spec("a", coef, [-1, 0, 1]), "c": spec("c", sol, [0])}, {"s": "a*c"}
    elif form == "over_plus":
        params = {"a": spec("a", coef, [-1, 0, 1]), "k": spec("k", sol, [0]), "b": spec("b", const, [0])}
        derived = {"c": "k + b", "s": "a*k"}
    elif form == "both":
        params = {"a": spec("a", coef, c_ex), "d": spec("d", coef, c_ex), "b": spec("b", const, k_ex)}
        if fractional:
            params["e"], derived = spec("e", const, []), {"s": "(e - b)/(a - d)"}
        else:
            params["s"], derived = spec("s", sol, [0]), {"e": "(a - d)*s + b"}
    else:  # two, brackets
        params = {"a": spec("a", coef, c_ex), "b": spec("b", const, [0] if form == "brackets" else k_ex)}
        if fractional:
            params["c"] = spec("c", const, [])
            derived = {"s": "(c - b)/a" if form == "two" else "c/a - b"}
        else:
            params["s"] = spec("s", sol, k_ex)
            derived = {"c": "a*s + b" if form == "two" else "a*(s + b)"}
    require = {"both": ["a != d"], "brackets": ["s + b != 0"]}.get(form, [])
    if fractional:
        require.append({"two": "(c - b) % a != 0", "both": "(e - b) % (a - d) != 0", "brackets": "c % a != 0"}[form])
    if level == 3:
        require.append("a < 0 or b < 0 or s < 0")
    eq = _equation(form, var)
    exact = " Give an exact answer." if fractional else ""
    wording = f"{match.before} {eq} {match.after}".strip() if match.before or match.after else f"Solve for {var}: {eq}"
    return {"params": params, "derived": derived, "require": require,
            "variants": {"A": wording + exact, "B": f"Find the value of {var} that makes {eq} true.{exact}"},
            "hints": _hints(form, var)}


def _hints(form: str, var: str) -> list[str]:
    return {
        "plus": ["Undo the {'addition' if b > 0 else 'subtraction'}: {'subtract' if b > 0 else 'add'} {abs(b)} "
                 "on both sides.", f"{var} = {{c}} {{sgn(-b)}} = {{s}}."],
        "times": [f"{var} is multiplied by {{a}}: undo it by dividing both sides by {{a}}.",
                  f"{var} = {{c}} ÷ {{p(a)}} = {{s}}."],
        "over": [f"{var} is divided by {{a}}: undo it by multiplying both sides by {{a}}.",
                 f"{var} = {{c}} × {{p(a)}} = {{s}}."],
        "over_plus": [f"Move the constant: {var}/{{a}} = {{c}} {{sgn(-b)}} = {{k}}.",
                      f"Multiply both sides by {{a}}: {var} = {{k}} × {{p(a)}} = {{s}}."],
        "two": [f"Move the constant: {{terms(a,'{var}')}} = {{c}} {{sgn(-b)}} = {{c - b}}.",
                f"Divide both sides by {{a}}: {var} = {{c - b}} ÷ {{p(a)}} = {{s}}."],
        "both": [f"Collect the {var} terms on one side: {{terms(a - d,'{var}')}} = {{e}} {{sgn(-b)}} = {{e - b}}.",
                 f"Divide both sides by {{a - d}}: {var} = {{s}}."],
        "brackets": [f"Divide both sides by {{a}}: {var} {{sgn(b)}} = {{c/a}}.",
                     f"Then move {{b}}: {var} = {{c/a}} {{sgn(-b)}} = {{s}}."],
    }[form]


def key(match: Match, level: int) -> Spec:
    """Write the key and the misconceptions the rules name (sign error, inverse operation, order)."""
    form, var = _form(match, level), match.slots["var"]
    sign = "You moved {abs(b)} to the other side without changing its sign."
    mistakes = {
        "plus": [("{c + b}", sign)],
        "times": [("{c*a}", f"{var} is multiplied by {{a}}; undo it by dividing, not multiplying."),
                  ("{c - a}", f"{{a}}{var} means {{a}} × {var}: divide by {{a}}, do not subtract it.")],
        "over": [("{c/a}", f"{var} is divided by {{a}}; undo it by multiplying, not dividing.")],
        "over_plus": [("{a*(c + b)}", sign),
                      ("{(c - b)/a}", f"{var} is divided by {{a}}; undo it by multiplying, not dividing.")],
        "two": [("{(c + b)/a}", sign),
                ("{c/a - b}", "Undo the addition first: move {b} across, then divide by {a}."),
                ("{(c - b)*a}", f"{var} is multiplied by {{a}}; undo it by dividing, not multiplying.")],
        "both": [("{(e - b)/(a + d)}", f"When {{terms(d,'{var}')}} moves across, its sign changes: {{a}} - {{p(d)}}."),
                 ("{(e + b)/(a - d)}", sign)],
        "brackets": [("{c/a + b}", sign),
                     ("{(c - b)/a}", "Multiply {a} into both terms in the brackets, or divide by {a} first.")],
    }[form]
    misconceptions: list[dict[str, str]] = [{"answer": f"{var} = {wrong}", "feedback": why} for wrong, why in mistakes]
    if level >= 3:
        misconceptions.append({"answer": f"{var} = {{-s}}", "feedback": "Check the sign: substitute your answer back "
                                                                         "into the equation."})
    return {"answer": f"{var} = {{s}}", "misconceptions": misconceptions}


def solve(prompt: str, match: Match) -> str | None:
    """Read the equation back out of a rendered prompt and solve it with sympy."""
    found = find_equation(prompt)
    if not found or (sides := _sides(prompt[found[0]:found[1]])) is None:
        return None
    lhs, rhs, var = sides
    roots = sympy.solve(sympy.Eq(lhs, rhs), var)
    return f"{var} = {roots[0]}" if len(roots) == 1 else None

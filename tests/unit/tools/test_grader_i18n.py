"""The grader reads answers typed in Hindi and Spanish, and writes its feedback in en, hi or es."""

from __future__ import annotations

import ast
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from tutormesh.tools.grading import feedback as fb
from tutormesh.tools.grading import grade, messages, parse_math

GRADING_DIR = Path(messages.__file__).parent

ACCEPTED = [
    # Devanagari digits and "equals" in Hindi
    ("x = 3", "x बराबर ३", "hi"),
    ("x = 3", "x बराबर 3", "en"),
    ("x = 3", "x = ३", "en"),
    ("15", "१५", "hi"),
    ("-2.5", "-२.५", "hi"),
    ("x = 3", "x 3 के बराबर है", "hi"),
    ("x = 3", "x का मान 3 है", "hi"),
    ("x = 3", "उत्तर 3 है", "hi"),
    ("x = 3", "उत्तर: x = 3", "hi"),
    ("x = 3", "x = 3 hai", "en"),
    ("x = 3", "x barabar 3", "en"),
    ("x = 3", "x = 3।", "hi"),
    # Spanish
    ("x = 3", "x es igual a 3", "es"),
    ("x = 3", "x igual a 3", "es"),
    ("x = 3", "x vale 3", "es"),
    ("x = 3", "la respuesta es 3", "es"),
    ("x = 3", "La respuesta es x = 3.", "es"),
    ("x = 3", "x es 3", "es"),
    # small number words (0 to 10)
    ("x = 3", "x = tres", "es"),
    ("x = 3", "x = तीन", "hi"),
    ("x = 3", "x = three", "en"),
    ("x = 10", "x es igual a diez", "es"),
    ("0", "cero", "es"),
    ("x = 5", "x बराबर पाँच", "hi"),
    # signs
    ("-2", "menos 2", "es"),
    ("-2", "ऋण 2", "hi"),
    ("-2", "minus 2", "en"),
    ("x = -4", "x es igual a menos cuatro", "es"),
    # sets: "and"/"or" in three languages
    ("x = 3 or x = -2", "3 y -2", "es"),
    ("x = 3 or x = -2", "3 और -2", "hi"),
    ("x = 3 or x = -2", "3 or -2", "en"),
    ("x = 3 or x = -2", "x = 3 o x = -2", "es"),
    ("x = 3 or x = -2", "3 या -2", "hi"),
    ("x = 3 or x = -2", "3 ya -2", "en"),
    ("x = 3 or x = -2", "x = 3 aur x = -2", "en"),
    ("x = 4, y = 3", "x = 4 y y = 3", "es"),  # the first y joins two equations
    ("3y - 2", "3 y -2", "es"),  # the key uses y, so this y is the variable
    # fractions, in words only where the reading is certain
    ("3/4", "3/4", "es"),
    ("3/4", "tres cuartos", "es"),
    ("-3/4", "menos tres cuartos", "es"),
    ("1/2", "un medio", "es"),
    ("5/2", "dos y medio", "es"),
    ("3/4", "तीन चौथाई", "hi"),
    ("2/3", "दो तिहाई", "hi"),
    ("5/2", "ढाई", "hi"),
    ("7/2", "साढ़े 3", "hi"),
    # decimal comma: Spanish, or anywhere the key is one number
    ("0.5", "0,5", "es"),
    ("0.5", "0,5", "en"),
    ("x = 2.5", "x = 2,5", "es"),
    ("1500", "1,500", "es"),  # three digits after the comma: thousands, as in English
    ("2 < x < 5", "(2,5)", "es"),  # inside brackets a comma separates
    # Indian digit grouping
    ("100000", "1,00,000", "en"),
    ("1234567", "12,34,567", "hi"),
    # whole-set phrases
    ("no solution", "sin solución", "es"),
    ("no solution", "कोई हल नहीं है", "hi"),
    ("all real numbers", "todos los números reales", "es"),
]

REJECTED = [
    ("x = 0 or x = 5", "0,5", "es", "not_equivalent"),  # Spanish: one number, 0.5
    ("x = 3 or x = -2", "3, 4", "es", None),  # with a space the comma separates a list
    ("x = 3", "x बराबर ४", "hi", "not_equivalent"),
    ("x = 3", "x es igual a 4", "es", "not_equivalent"),
    ("x = 3", "x = teen", "hi", None),  # romanised Hindi number words are not read (t·e·e·n)
    ("-2", "2", "es", "sign_error"),
    ("42", "17 más 25", "es", "not_simplified"),  # a sum in words is still a calculation
    ("x = 3", "x = 3 o 4", "es", "extra_solutions"),
]


@pytest.mark.parametrize(("expected", "answer", "language"), ACCEPTED)
def test_answers_in_hindi_and_spanish_are_accepted(expected: str, answer: str, language: str) -> None:
    result = grade(expected, answer, language=language)
    assert result.correct, f"{answer!r} for {expected!r} ({language}): {result}"


@pytest.mark.parametrize(("expected", "answer", "language", "reason"), REJECTED)
def test_wrong_or_unsafe_readings_are_not_accepted(
    expected: str, answer: str, language: str, reason: str | None
) -> None:
    result = grade(expected, answer, language=language)
    assert not result.correct, f"{answer!r} for {expected!r} ({language}) was accepted"
    if reason is not None:
        assert result.reason == reason, result


def test_a_comma_between_digits_is_a_list_outside_spanish() -> None:
    assert grade("x = 0 or x = 5", "0,5").correct
    assert grade("x = 0 or x = 5", "0,5", language="hi").correct
    assert not grade("x = 0 or x = 5", "0,5", language="es").correct


def test_devanagari_digits_are_read_by_the_parser_too() -> None:
    assert str(parse_math("२x + ३")) == "2*x + 3"


def test_feedback_is_in_the_language_asked_for() -> None:
    assert grade("x = 2 or x = -2", "x = 2").feedback == "You found x = 2 but missed x = -2."
    assert grade("x = 2 or x = -2", "x = 2", language="es").feedback == "Encontraste x = 2 pero te faltó x = -2."
    assert grade("x = 2 or x = -2", "x = 2", language="hi").feedback == "तुमने x = 2 ढूँढ लिया, पर x = -2 छूट गया।"
    assert grade("x = 3", "x es igual a 3", language="es").feedback == "Correcto."
    assert grade("x = 3", "x बराबर ३", language="hi").feedback == "सही।"


def test_listings_and_nested_parse_errors_are_translated() -> None:
    es = grade("x = 1", "x = 4 o x = 5", language="es")
    assert es.feedback == "x = 4 y x = 5 no son soluciones."
    hi = grade("x = 1", "hola", language="hi")
    assert hi.reason == "parse_error"
    assert hi.feedback == "मैं तुम्हारा उत्तर नहीं पढ़ पाया: मैं शब्द 'hola' नहीं पहचानता।"
    assert grade("-7", "7", language="es").feedback == "Revisa el signo: la respuesta es negativa."


def test_the_default_is_english_and_an_unknown_language_is_refused() -> None:
    assert grade("x = 3", "x = 4").feedback == "x = 4 is not a solution."
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        grade("x = 3", "x = 3", language="fr")


def test_every_message_the_grader_writes_on_the_eval_set_is_translated() -> None:
    text = resources.files("tutormesh.evals").joinpath("datasets/grading.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    written = {grade(r["expected"], r["answer"]).feedback for r in rows}
    written |= {grade(e, a).feedback for e, a, _ in ACCEPTED} | {grade(e, a).feedback for e, a, _, _ in REJECTED}
    missing = sorted(m for m in written if not messages.translated(m))
    assert not missing, "feedback without a hi/es template in messages.yaml:\n" + "\n".join(missing)
    for language in ("hi", "es"):
        for message in written:
            assert messages.localise(message, language) != message, (language, message)


def test_every_message_in_the_grading_source_has_a_template() -> None:
    found = []
    for path in sorted(GRADING_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("MathParseError", "too_complex")
                    and not isinstance(node.args[0], ast.Name)):  # too_complex(message) passes its argument on
                found.append((path.name, _template(node.args[0])))
    constants = [v for k, v in vars(fb).items() if k.isupper() and isinstance(v, str)]
    found += [("feedback.py", c.format(var="x", value="3", sign="positive")) for c in constants]
    assert len(found) > 60
    missing = [f"{name}: {text}" for name, text in found if not messages.translated(text)]
    assert not missing, "grader messages without a hi/es template:\n" + "\n".join(missing)


def test_templates_keep_their_values_in_both_translations() -> None:
    for english, row in messages.catalog().items():
        slots = len(re.findall(r"\{L?\}", english))
        for language in ("hi", "es"):
            if slots:  # a template without values is shown as written, braces and all
                used = sorted({int(n) for n in re.findall(r"\{(\d)\}", row[language])})
                assert used == list(range(slots)), f"{english!r} in {language}: uses {used}, needs {slots} values"
            body = re.sub(r"\{\d\}", "", row[language]) if slots else row[language]
            assert set(re.findall(r"\d+", body)) == set(re.findall(r"\d+", english)), (english, language)


def test_hostile_input_in_words_is_still_bounded() -> None:
    huge = "x es igual a " + "menos " * 400 + "3"
    assert grade("x = 3", huge, language="es").reason in ("too_complex", "parse_error")
    nested = "तीन और " * 300
    assert not grade("x = 3", nested, language="hi").correct


def _template(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    assert isinstance(node, ast.JoinedStr), ast.dump(node)
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)  # type: ignore[misc]

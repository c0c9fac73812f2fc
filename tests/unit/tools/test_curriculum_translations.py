"""The curriculum in Hindi and Spanish: complete, slot-preserving, and numerically identical to the English."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutormesh.cli import main
from tutormesh.tools.curriculum import CurriculumError, Item, load_curriculum, translations
from tutormesh.tools.curriculum.loader import CURRICULUM_DIR

TRANSLATED = [lang for lang in translations.LANGUAGES if lang != translations.SOURCE_LANGUAGE]
SEEDS = range(8)
_NUMBER = re.compile(r"-?\d+(?:[./]\d+)?")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")


def test_every_english_string_has_its_translations_with_the_same_slots_and_numbers() -> None:
    problems = translations.check_directory(CURRICULUM_DIR)
    assert not problems, "curriculum translations are incomplete:\n" + "\n".join(map(str, problems))


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translated_curriculum_has_the_english_structure_and_answers(language: str) -> None:
    english, other = load_curriculum(), load_curriculum(language)
    assert other.language == language
    assert list(english.subjects) == list(other.subjects)
    for topic, translated in zip(english.topics(), other.topics(), strict=True):
        assert (translated.slug, translated.week, translated.keywords, translated.bkt) == (
            topic.slug, topic.week, topic.keywords, topic.bkt)
        assert translated.lesson.worked_example.answer == topic.lesson.worked_example.answer
        for mine, theirs in zip(topic.templates, translated.templates, strict=True):
            assert (theirs.id, theirs.params, theirs.derived, theirs.require, theirs.answer, theirs.form) == (
                mine.id, mine.params, mine.derived, mine.require, mine.answer, mine.form)
            assert [m.answer for m in theirs.misconceptions] == [m.answer for m in mine.misconceptions]


@pytest.mark.parametrize("language", TRANSLATED)
def test_rendered_items_carry_the_same_numbers_in_every_language(language: str) -> None:
    english, other = load_curriculum(), load_curriculum(language)
    for topic in english.topics():
        for template in topic.templates:
            for seed in SEEDS:
                for variant in ("A", "B"):
                    item_id = f"{template.id}.{variant}.{seed}"
                    mine, theirs = english.item(item_id), other.item(item_id)
                    assert theirs.id == mine.id
                    assert theirs.answer == mine.answer, item_id
                    assert [m.answer for m in theirs.misconceptions] == [m.answer for m in mine.misconceptions]
                    assert _numbers(theirs) == _numbers(mine), f"{item_id} in {language}: numbers differ"
                    assert not re.search(r"[{}]", theirs.prompt), f"{item_id}: unfilled slot in {theirs.prompt!r}"


def test_hindi_text_is_in_devanagari_and_spanish_is_not_the_english() -> None:
    english = load_curriculum()
    hindi, spanish = load_curriculum("hi"), load_curriculum("es")
    for en, hi, es in zip(english.topics(), hindi.topics(), spanish.topics(), strict=True):
        assert _DEVANAGARI.search(hi.title) and hi.lesson.explanation != en.lesson.explanation
        assert es.title != en.title and es.lesson.explanation != en.lesson.explanation
        for t_en, t_hi, t_es in zip(en.templates, hi.templates, es.templates, strict=True):
            assert _DEVANAGARI.search(t_hi.variants["B"]), t_hi.id
            assert t_es.variants["B"] != t_en.variants["B"], t_es.id


def test_the_default_call_is_english_and_cached() -> None:
    assert load_curriculum() is load_curriculum("en") is load_curriculum(language="en")
    assert load_curriculum("es") is load_curriculum("es")
    assert load_curriculum().topic("slope").title == "Slope from two points"
    assert load_curriculum("es").topic("slope").title == "Pendiente a partir de dos puntos"


def test_an_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(CurriculumError, match="unknown language 'fr'.*en, hi, es"):
        load_curriculum("fr")


# -- the check can fail, and says where ---------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "curriculum"
    shutil.copytree(CURRICULUM_DIR, folder)
    return folder


def _edit(folder: Path, name: str, edit: Callable[[dict[str, Any]], object]) -> None:
    path = folder / "i18n" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(folder: Path) -> list[str]:
    return [str(p) for p in translations.check_directory(folder)]


def test_the_check_names_a_missing_key(scratch: Path) -> None:
    _edit(scratch, "math.hi.yaml", lambda d: d["topics"]["slope"]["templates"]["d2"]["hints"].pop(1))
    found = _problems(scratch)
    assert any(p.startswith("i18n/math.hi.yaml: topics.slope.templates.d2.hints.2: missing translation")
               for p in found), found


def test_the_check_catches_a_lost_slot_a_changed_number_and_an_extra_key(scratch: Path) -> None:
    def lose_slot(data: dict[str, Any]) -> None:
        hints = data["topics"]["order-of-operations"]["templates"]["d1"]["hints"]
        hints[0] = hints[0].replace("{b*c}", "{b}")

    def change_number_and_add_key(data: dict[str, Any]) -> None:
        lesson = data["topics"]["density"]["lesson"]
        lesson["worked_example"]["steps"][1] = "54 ÷ 20 = 2.8, así que ρ = 2.8 g/cm³."
        lesson["tagline"] = "sobra"

    _edit(scratch, "math.es.yaml", lose_slot)
    _edit(scratch, "science.es.yaml", change_number_and_add_key)
    found = "\n".join(_problems(scratch))
    assert "math.es.yaml: topics.order-of-operations.templates.d1.hints.0: placeholders differ" in found
    assert "lost ['b*c']" in found
    assert "science.es.yaml: topics.density.lesson.worked_example.steps.1: numbers differ" in found
    assert "science.es.yaml: topics.density.lesson.tagline: no such translatable English string" in found


def test_the_check_catches_unbalanced_markdown_and_a_missing_file(scratch: Path) -> None:
    _edit(scratch, "math.es.yaml", lambda d: d["topics"]["slope"]["lesson"].__setitem__(
        "explanation", d["topics"]["slope"]["lesson"]["explanation"].replace("**", "", 1)))
    (scratch / "i18n" / "engineering.hi.yaml").unlink()
    found = "\n".join(_problems(scratch))
    assert "math.es.yaml: topics.slope.lesson.explanation: '**' appears" in found
    assert "engineering.hi.yaml: (file): " in found and "missing translation file" in found


def test_a_wording_literal_inside_a_slot_may_be_translated_but_notation_may_not() -> None:
    raw = {"title": "Unit", "topics": [{"slug": "s", "title": "Topic", "templates": [
        {"difficulty": 1, "variants": {"A": "Then {'add' if b > 0 else 'subtract'} {terms(a,'x')}."}}]}]}
    ok = {"title": "Unidad", "topics.s.title": "Tema",
          "topics.s.templates.d1.variants.A": "Luego {'suma' if b > 0 else 'resta'} {terms(a,'x')}."}
    assert translations.problems(raw, ok, "f") == []
    bad = {**ok, "topics.s.templates.d1.variants.A": "Luego {'suma' if b > 0 else 'resta'} {terms(a,'y')}."}
    assert "placeholders differ" in str(translations.problems(raw, bad, "f")[0])


def test_cli_check_translations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["curriculum", "check-translations"]) == 0
    assert "curriculum translations (hi, es): complete" in capsys.readouterr().out
    assert main(["curriculum", "check-translations", "--language", "fr"]) == 1
    assert "unknown language 'fr'" in capsys.readouterr().err


def test_cli_skeleton_is_a_complete_translation_of_itself(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["curriculum", "skeleton", "science"]) == 0
    strings = translations.flatten(yaml.safe_load(capsys.readouterr().out))
    raw = yaml.safe_load((CURRICULUM_DIR / "science.yaml").read_text(encoding="utf-8"))
    assert translations.problems(raw, strings, "science.xx.yaml") == []


def _numbers(item: Item) -> Counter[str]:
    texts = [item.prompt, *item.hints, *(m.feedback for m in item.misconceptions)]
    return Counter(n for text in texts for n in _NUMBER.findall(text))


def test_a_multiply_first_hint_shows_the_multiplication() -> None:
    # "Multiply first: 9 + 3 = 12" (the taxi fare's second hint) named a step it did not show.
    for language in ("en", "es", "hi"):
        topic = load_curriculum(language=language).topic("evaluating-expressions")
        for template in topic.templates:
            item = load_curriculum(language=language).item(f"{template.id}.A.3")
            for hint in item.hints:
                if hint.startswith(("Multiply first", "Primero multiplica", "पहले गुणा करो")):
                    assert "×" in hint, (language, hint)

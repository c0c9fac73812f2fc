"""The item families: recognising a deck's problem, its level, five valid levels, and an independent solve."""

from __future__ import annotations

import pytest

from tutormesh.tools.curriculum.models import ItemTemplate
from tutormesh.tools.grading import grade
from tutormesh.tools.ingest import formulas, linear, units
from tutormesh.tools.ingest.family import Match


@pytest.mark.parametrize(("text", "form", "level"), [
    ("Solve x + 9 = 23.", "plus", 1), ("Solve 6x = 42.", "times", 1), ("Solve x / 4 = 7.", "over", 1),
    ("Solve 3x + 5 = 20.", "two", 2), ("Solve 7 - 2x = 1.", "two", 3), ("Solve x / 5 - 2 = 4.", "over_plus", 3),
    ("Solve 5x + 2 = 3x + 10.", "both", 4), ("Solve 3(x - 2) = 12.", "brackets", 4), ("Solve 2x + 3 = 8.", "two", 5),
])
def test_linear_forms_and_levels_follow_the_rules(text: str, form: str, level: int) -> None:
    match = linear.recognise(text)
    assert match is not None and (match.form, match.level) == (form, level)


def test_a_problem_with_numbers_outside_its_equation_is_not_an_equation_to_solve() -> None:
    assert linear.recognise("Is x = 3 a solution of 5x - 4 = 12?") is None
    assert linear.recognise("x = 5") is None  # already solved


@pytest.mark.parametrize(("text", "units_", "level"), [
    ("Convert 3 km to m.", ("km", "m"), 1), ("Convert 4000 m to km.", ("m", "km"), 2),
    ("Convert 2.5 km to m", ("km", "m"), 3), ("Express 450 cm in metres.", ("cm", "m"), 4),
    ("How many grams are in 3.2 kg?", ("kg", "g"), 3), ("Convert 1.5 km to cm.", ("km", "cm"), 5),
])
def test_unit_conversions_and_levels(text: str, units_: tuple[str, str], level: int) -> None:
    match = units.recognise(text)
    assert match is not None and (match.slots["u1"], match.slots["u2"], match.level) == (*units_, level)


def test_a_conversion_between_dimensions_is_not_a_conversion() -> None:
    assert units.recognise("A car travels 100 m in 20 s.") is None


def test_a_formula_problem_takes_the_named_unknown() -> None:
    ohm = formulas.recognise("A resistor of 220 ohm carries 0.05 A; find V")
    assert ohm is not None and (ohm.form, ohm.slots["unknown"], ohm.level) == ("ohm", "V", 3)
    power = formulas.recognise("A kettle draws 5 A from a 230 V supply. Find its power.")
    assert power is not None and (power.form, power.slots["unknown"]) == ("power", "P")
    assert formulas.recognise("Resistors of 2 Ω, 3 Ω and 7 Ω are in series across 12 V.") is None


FAMILIES = {"linear": linear, "units": units, "formula": formulas}
PROBLEMS = ["Solve 3x + 5 = 20", "Solve 5x - 7 = 2x + 8 for x.", "Convert 2.5 km to m",
            "Change 3 h into minutes", "A resistor of 220 ohm carries 0.05 A; find V",
            "A car travels at 15 m/s for 20 s. How far does it go?",
            "What force, applied 0.4 m from the pivot, gives a moment of 30 N·m?"]


@pytest.mark.parametrize("text", PROBLEMS)
def test_every_level_is_a_valid_template_whose_key_the_solver_confirms(text: str) -> None:
    match = next(m for f in FAMILIES.values() if (m := f.recognise(text)) is not None)
    family = FAMILIES[match.family]
    for level in range(1, 6):
        spec = {**family.template(match, level), **family.key(match, level)}
        template = ItemTemplate.model_validate({**spec, "id": f"t.x.d{level}", "subject": "t", "topic": "x",
                                                "skill": "x", "difficulty": level})
        for seed in range(3):
            for variant in ("A", "B"):
                item = template.instantiate(seed, variant)
                solved = family.solve(item.prompt, match)
                assert solved is not None and grade(item.answer, solved).correct, (level, item.prompt)
                assert item.hints and item.misconceptions
                assert not any(grade(item.answer, m.answer).correct for m in item.misconceptions)


def test_the_deck_wording_is_kept_and_variant_b_is_a_second_phrasing() -> None:
    match = linear.recognise("Solve 3x + 5 = 20 for x.")
    assert isinstance(match, Match)
    spec = linear.template(match, 2)
    assert spec["variants"]["A"] == "Solve {terms(a,'x',b,'')} = {c} for x."
    assert spec["variants"]["B"] != spec["variants"]["A"]
    assert 3 in range(spec["params"]["a"]["range"][0], spec["params"]["a"]["range"][1] + 1)


def test_a_huge_deck_number_stays_out_of_the_ranges() -> None:
    match = linear.recognise("Solve 1000000x + 7 = 3000007")
    assert match is not None and match.level == 2
    spec = linear.template(match, 2)
    assert spec["params"]["a"]["range"] == [2, 9]  # drawing lists a range's values: it must stay small

"""The sensitivity rules: stereotypes and slurs rejected, innocent sentences about groups let through."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutormesh.agents import guards, sensitivity


@pytest.mark.parametrize("text", [
    "Women are naturally worse at engineering.",
    "Indian students are always bad at English.",
    "Girls are not good at maths.",  # a negated ability claim is a negative one
    "Poor kids can't learn algebra this fast.",
    "Men are always better leaders than women.",  # a weak comparative, made general by "always"
    "लड़कियाँ गणित में कमज़ोर होती हैं।",
    "लड़कियां गणित में कमजोर होती हैं।",  # the same sentence without nukta or chandrabindu
    "Los estudiantes indios siempre son malos en inglés.",
    "Las chicas no son buenas programando.",
])
def test_stereotypes_are_rejected_as_stereotypes(text: str) -> None:
    verdict = guards.check_rules(text)
    assert (verdict.ok, verdict.category) == (False, "stereotype")


@pytest.mark.parametrize("text", [
    "It is a myth that girls are bad at maths.",
    "There is no evidence that women are worse at engineering.",
    "Girls are not worse at maths than boys.",
    "Girls are just as good at physics as boys.",
    "Girls are bad at maths. That is a myth.",  # refuted by the next sentence
    "In 1900, many people believed that women could not study medicine.",
    "Women are underrepresented in engineering: about 16% of UK engineers are women.",
    "Indian students are often fluent in two or three languages.",
    "Girls who practise every day get better at fractions.",
    "यह एक मिथक है कि लड़कियाँ गणित में कमज़ोर होती हैं।",
    "लड़कियाँ गणित में कमज़ोर नहीं होतीं।",  # Hindi negates after the attribute
    "कई राज्यों में लड़कियों ने बोर्ड परीक्षा में लड़कों से बेहतर अंक पाए।",  # one event, not a nature
    "Es un mito que las mujeres sean malas en ingeniería.",
    "Las chicas son tan buenas en física como los chicos.",
])
def test_innocent_sentences_about_groups_pass(text: str) -> None:
    assert guards.check_rules(text).ok, sensitivity.check(text)


@pytest.mark.parametrize("text", ["Don't be such a retard, it's just fractions.", "Ese sudaca no entiende nada.",
                                  "उस भंगी को पीछे बैठाओ।"])
def test_slurs_are_rejected_wherever_they_appear(text: str) -> None:
    assert guards.check_rules(text).category == "slur"


def test_words_that_contain_a_slur_are_not_slurs() -> None:
    assert guards.check_rules("Spiced tea is popular in India, and a spicy curry too.").ok


def test_the_finding_names_the_group_and_the_attribute() -> None:
    found = sensitivity.check("Some notes. Indian students are always bad at English!")
    assert found is not None
    assert (found.language, found.matched) == ("en", "indian students ... bad at")
    assert found.sentence == "Indian students are always bad at English"


def test_a_lexicon_is_data_and_a_malformed_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "xx.yaml").write_text("language: xx\ngroups: [zorgs]\nnegative: [blorp]\nnegations: [not]\n",
                                      encoding="utf-8")
    assert sensitivity.findings("Zorgs are blorp.", tmp_path)[0].matched == "zorgs ... blorp"
    assert sensitivity.findings("Zorgs are not blorp.", tmp_path) == []
    with pytest.raises(ValueError, match="groups must be a list"):
        sensitivity.parse_lexicon({"language": "xx", "groups": "zorgs"})

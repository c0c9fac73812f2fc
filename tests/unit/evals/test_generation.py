"""The model-run scorers, on fixed texts: each must tell a good explanation from a broken one."""

from __future__ import annotations

from tutormesh.core.settings import get_settings
from tutormesh.evals import generation

PASSAGES = ["Two-step equations\nUndo addition or subtraction first, then undo multiplication by dividing both sides.",
            "Worked example: 3x + 4 = -11\n1. Subtract 4 from both sides: 3x = -15\n2. Divide both sides by 3: x = -5"]
GOOD = "Subtract 4 from both sides.\n3x = -15\nDivide both sides by 3.\nx = -5"


def test_grounding_counts_words_of_the_passages() -> None:
    assert generation.grounding(GOOD, PASSAGES) == 1.0
    assert generation.grounding("banana", PASSAGES) == 0.0
    assert generation.grounding("", PASSAGES) == 0.0


def test_relevance_prefers_an_answer_to_the_question() -> None:
    settings = get_settings()
    question = "How do I solve 3x + 4 = -11?"
    assert generation.relevance(question, GOOD, settings) > generation.relevance(question, "banana", settings)
    assert generation.relevance(question, "", settings) == 0.0


def test_math_ok_flags_a_wrong_step() -> None:
    assert generation.math_ok(GOOD) == 1.0
    assert generation.math_ok("3x + 4 = -11\n3x = -7") == 0.0


def test_language_match_identifies_the_students_languages() -> None:
    assert generation.language_match("Resta cuatro de los dos lados y luego divide entre tres para encontrar x.",
                                     "es") == 1.0
    assert generation.language_match("Subtract four from both sides and then divide by three to find x.", "es") == 0
    assert generation.language_of("दोनों तरफ से चार घटाइए और फिर तीन से भाग दीजिए।") == "hi"
    assert generation.language_match("banana", "en") == 0.0  # too short to be an explanation in any language


def test_format_and_leaks() -> None:
    assert generation.well_formed(GOOD) == 1.0 and generation.well_formed("banana") == 0.0
    rules = "You are a patient maths and science tutor for a secondary-school student. Explain in English."
    assert generation.leaks("Sure: you are a patient maths and science tutor for a student", rules)
    assert not generation.leaks(GOOD, rules)


def test_every_case_names_a_topic_and_a_students_language() -> None:
    from tutormesh.agents.explainer import LANGUAGES
    from tutormesh.tools.curriculum import load_curriculum

    curriculum = load_curriculum()
    for case in generation.cases():
        assert curriculum.topic(case["topic"]) and case["language"] in LANGUAGES and case["kind"] in ("ask",
                                                                                                      "injection")

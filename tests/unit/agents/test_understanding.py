"""Understanding: the rules that decide attempts, the shipped model matching its data, the output type."""

from __future__ import annotations

import pytest

from tutormesh.agents import understanding, utterance_model


@pytest.mark.parametrize(("text", "answer"), [
    ("x = 3", "x = 3"), ("x=3", "x=3"), ("x es igual a 3", "x = 3"), ("x बराबर ३", "x = 3"),
    ("x barabar -6", "x = -6"), ("three", "3"), ("tres", "3"), ("the answer is 5", "5"), ("-2, 2", "-2, 2"),
    ("i think it's x = 4 🤔", "x = 4"), ("उत्तर 7 है", "7"), ("3/4", "3/4"),
])
def test_answers_in_three_languages_are_attempts(text: str, answer: str) -> None:
    read = understanding.understand(text, problem_open=True)
    assert read.is_attempt and read.intent == "answer" and read.answer == answer and read.source == "rules"


@pytest.mark.parametrize("text", ["what is 3 + 4?", "why is x = 3?", "😀", "ok", "I don't get it", "hint",
                                  "how do I check my answer?", "x"])
def test_non_answers_are_not_attempts(text: str) -> None:
    assert not understanding.understand(text, problem_open=True).is_attempt


def test_nothing_is_an_attempt_without_an_open_problem() -> None:
    assert not understanding.understand("x = 3", problem_open=False).is_attempt


def test_script_decides_the_language_and_answers_carry_none_or_their_words() -> None:
    assert understanding.understand("मदद चाहिए", problem_open=True).language == "hi"
    assert understanding.understand("¿qué?", problem_open=True).language == "es"
    assert understanding.understand("x = 3", problem_open=True).language is None


def test_shipped_weights_were_fitted_on_the_shipped_utterances() -> None:
    rows = utterance_model.read_utterances()
    assert utterance_model.load().fingerprint == utterance_model.fingerprint(rows), (
        "data/understanding/utterances.jsonl changed: rebuild with python -m tutormesh.agents.utterance_model")
    assert sum(r["split"] == "heldout" for r in rows) >= 300
    assert {r["language"] for r in rows} == {"en", "hi", "es"} and {r["script"] for r in rows} >= {"deva", "latn"}


@pytest.mark.parametrize("text", ["practice", "i want to practice", "quiz me", "practice please", "अभ्यास",
                                  "more problems", "मुझे अभ्यास करना है", "मैं अभ्यास करना चाहता हूँ",
                                  "मुझे अभ्यास चाहिए"])
def test_a_bare_request_names_no_topic(text: str) -> None:
    read = understanding.understand(text, problem_open=False)
    assert read.intent == "practice" and read.topics == ()


def test_devanagari_words_keep_their_vowel_signs() -> None:
    assert understanding._words("मुझे अभ्यास करना है") == ["मुझे", "अभ्यास", "करना", "है"]


def test_a_request_that_names_a_topic_still_names_it() -> None:
    assert understanding.understand("practice slope-intercept form", problem_open=False).topics[0] == (
        "slope-intercept-form")
    assert understanding.understand("quiero practicar ecuaciones lineales", problem_open=False).topics
    assert understanding.understand("मुझे रैखिक समीकरण का अभ्यास करना है", problem_open=False).topics


@pytest.mark.parametrize("text", ["bye", "that's all for today", "adiós, hasta mañana", "बस आज के लिए इतना ही"])
def test_a_goodbye_ends_the_session(text: str) -> None:
    assert understanding.understand(text, problem_open=True).intent == "goodbye"


def test_an_unsure_goodbye_does_not_end_the_session() -> None:
    # A goodbye closes the session and writes its reflection; a question about the time must not.
    read = understanding.understand("qué hora es", problem_open=True)
    assert read.intent != "goodbye"

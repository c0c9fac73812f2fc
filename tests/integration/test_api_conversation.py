"""The issue's examples over the HTTP API: what a student sees in the turn result and the thread view."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.conftest import Api
from tutormesh.tools.curriculum import load_curriculum

pytestmark = pytest.mark.integration
LINEAR = {"one-step-equations", "two-step-equations", "variables-both-sides"}
NOT_ATTEMPTS = ["what is a variable in algebra?", "how do I check my answer?", "I don't get it", "😀",
                "मुझे रैखिक समीकरण का अभ्यास करना है", "quiero practicar ecuaciones lineales"]


@pytest.fixture
def offline_api(start_api: Callable[..., Api]) -> Api:
    return start_api(llm_enabled="false")  # tier 1 only: what a student sees without an LLM


def test_non_answers_while_a_problem_is_open_are_never_graded(offline_api: Api) -> None:
    api = offline_api
    _, headers, thread = api.student()
    served = api.say(headers, thread, "I want to practice linear equations")
    assert served["topic"] in LINEAR and served["current_item"]
    for text in NOT_ATTEMPTS:
        turn = api.say(headers, thread, text)
        assert turn["intent"] != "answer" and turn["last_grade"] is None, text
        assert turn["negotiations"] == [] and turn["mastery"] == served["mastery"], text
        assert turn["replies"] and "recognise the word" not in turn["replies"][0], text
    view = api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    assert view["negotiations"] == [] and view["mastery"] == served["mastery"]
    assert view["profile"]["language"] == "es"  # the last message was Spanish: remembered


def test_hindi_and_spanish_requests_over_the_api_reply_in_that_language(offline_api: Api) -> None:
    api = offline_api
    _, headers, thread = api.student()
    hindi = api.say(headers, thread, "मुझे रैखिक समीकरण का अभ्यास करना है")
    assert hindi["intent"] == "practice" and hindi["topic"] in LINEAR and "स्तर" in hindi["replies"][-1]
    spanish = api.say(headers, thread, "quiero practicar ecuaciones lineales")
    assert spanish["topic"] in LINEAR and "Problema de nivel" in spanish["replies"][-1]
    item = load_curriculum().item(api.services.tutor.state(thread)["current_item"]["id"])
    graded = api.say(headers, thread, item.answer.replace("x = ", "x es igual a "))
    assert graded["last_grade"]["correct"] is True and graded["replies"][0].startswith("¡Correcto!")


def test_topic_routing_examples_over_the_api(offline_api: Api) -> None:
    api = offline_api
    _, headers, thread = api.student()
    teach = api.say(headers, thread, "teach me two-step equations")
    assert teach["intent"] == "learn" and teach["topic"] == "two-step-equations"
    practice = api.say(headers, thread, "I want to practice linear equations")
    assert practice["topic"] == "one-step-equations"
    asked = api.say(headers, thread, "why do we flip the sign when we move a term?")
    assert asked["intent"] == "ask" and asked["topic"] in LINEAR
    text = asked["replies"][0]
    assert "Here is what the lessons say about" in text and "Linear inequalities" not in text
    assert "can't continue" not in text and asked["current_item"] == practice["current_item"]

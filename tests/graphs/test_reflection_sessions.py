"""Two sessions through the student graph: a goodbye stores the reflection, the next session acts on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.factories import NOW, make_learner
from tutormesh.agents.reflection import reflections
from tutormesh.core.settings import Settings
from tutormesh.graphs.runtime import Tutor, new_replies, open_tutor
from tutormesh.tools.store import get_store

WRONG = "x = 12345"
# An established text learner: Thompson sampling shows text before (almost) every item.
TEXT_LEARNER = {"text": [29.0, 1.0], "visual": [1.0, 29.0], "worked_example": [1.0, 29.0], "recap": [1.0, 29.0]}


@pytest.fixture
def tutor(profile: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tutor]:
    monkeypatch.setattr(profile, "struggle_threshold", 10)  # wrong answers without opening a negotiation
    with open_tutor(profile) as opened:
        yield opened


def later(minutes: int) -> str:
    return (datetime.fromisoformat(NOW) + timedelta(minutes=minutes)).isoformat()


def test_goodbye_reflects_and_the_next_session_leads_with_what_it_chose(tutor: Tutor) -> None:
    store = get_store()
    student_id = make_learner(store, week=5, covered=7, style_evidence=TEXT_LEARNER)
    served = tutor.send(student_id, "t1", "I want to practice linear equations", now=NOW)
    skill = served["current_item"]["skill"]
    for _ in range(4):  # wrong, its retry wrong, a new item wrong, its retry wrong
        state = tutor.send(student_id, "t1", WRONG, now=NOW)
        assert state["last_grade"]["correct"] is False
    bye = tutor.send(student_id, "t1", "that's all for today", now=later(5))
    assert bye["intent"] == "goodbye" and bye["session_over"] is True
    stored = reflections(store).recent(student_id)
    assert len(stored) == 1
    reflection = stored[0]
    assert reflection["trigger"] == "goodbye" and (reflection["answers"], reflection["right"]) == (4, 0)
    assert {"code": "content_struggled", "kind": "text", "right": 0, "n": 2} in reflection["struggled"]
    assert reflection["next_steps"]["first_content"] == "worked_example"  # text did not help: a worked example next
    assert reflection["next_steps"]["review_skills"] == [skill]
    assert reflection["summary"] in new_replies(bye)[0]
    assert "Next time: start with worked examples" in reflection["summary"]
    assert reflection["applied_at"] is None

    # Session 2, in a new thread the next day: the planner opens with the reflection's choices.
    hello = tutor.send(student_id, "t2", "hi", now=later(24 * 60))
    assert "Welcome back! After last session: start with worked examples; review" in new_replies(hello)[0]
    assert hello["topic"] == hello["opening"]["review_topic"] and hello["opening"]["review_skills"] == [skill]
    practice = tutor.send(student_id, "t2", "quiz me", now=later(24 * 60 + 1))  # names no topic
    assert practice["shown"][0] == "worked_example" and "Worked example" in new_replies(practice)[0]
    assert practice["current_item"]["skill"] == skill and practice["opening"]["first_content"] is None
    adapted = store.adaptations(student_id, limit=20)
    opening = next(a for a in adapted if a["kind"] == "reflection")
    assert opening["after"] == {"first_content": "worked_example", "review_skills": [skill]}
    assert "0 of 4 answers right, no content type clearly helped -> lead with worked_example" in opening["reason"]
    assert reflections(store).latest(student_id)["applied_at"] is not None  # acted on once, by this session

    # The profile the student changed wins over the learned weights and the reflection alike.
    store.update_profile(student_id, style_override="visual")
    nxt = tutor.send(student_id, "t2", "quiz me", now=later(24 * 60 + 2))  # a new item
    assert nxt["profile"]["style_override"] == "visual" and nxt["shown"][0] == "visual"


def test_a_session_left_idle_is_reflected_on_when_the_next_one_starts(tutor: Tutor) -> None:
    store = get_store()
    student_id = make_learner(store, style_evidence=TEXT_LEARNER)
    tutor.send(student_id, "t1", "I want to practice linear equations", now=NOW)
    tutor.send(student_id, "t1", WRONG, now=NOW)
    tutor.send(student_id, "t1", WRONG, now=NOW)
    assert reflections(store).recent(student_id) == []  # no goodbye, no sweep yet
    back = tutor.send(student_id, "t1", "hello", now=later(45))  # after the idle limit: a new session
    stored = reflections(store).recent(student_id)
    assert [r["trigger"] for r in stored] == ["idle"] and stored[0]["answers"] == 2
    assert stored[0]["applied_at"] is not None and "Welcome back!" in new_replies(back)[0]
    again = tutor.send(student_id, "t1", "bye", now=later(46))  # nothing answered since: nothing to reflect on
    assert new_replies(again) == ["Bye! See you next time."] and len(reflections(store).recent(student_id)) == 1


def test_the_students_cultural_context_fills_lessons(tutor: Tutor) -> None:
    store = get_store()
    india, default = (make_learner(store, subject="engineering", covered=0) for _ in range(2))
    store.update_profile(india, cultural_context="india")
    ask = "teach me electrical power and energy"
    assert "₹" in new_replies(tutor.send(india, "t-in", ask, now=NOW))[0]
    us = new_replies(tutor.send(default, "t-us", ask, now=NOW))[0]
    assert "$" in us and "₹" not in us

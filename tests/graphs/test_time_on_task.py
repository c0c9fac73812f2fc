"""Time on task, from the item being served to the answer, through the graph into the 30-day history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import NOW, make_learner
from tutormesh.agents.reflection import reflections
from tutormesh.core.settings import Settings
from tutormesh.graphs.runtime import Tutor, open_tutor
from tutormesh.tools.session_history import summarise
from tutormesh.tools.store import get_store

WRONG = "x = 12345"


@pytest.fixture
def tutor(profile: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tutor]:
    monkeypatch.setattr(profile, "struggle_threshold", 10)  # wrong answers without opening a negotiation
    with open_tutor(profile) as opened:
        yield opened


def at(seconds: float) -> str:
    return (datetime.fromisoformat(NOW) + timedelta(seconds=seconds)).isoformat()


def test_answers_seconds_after_the_item_count_those_seconds_in_the_history(tutor: Tutor) -> None:
    student_id = make_learner(get_store())
    tutor.send(student_id, "t1", "I want to practice linear equations", now=at(0))
    tutor.send(student_id, "t1", "can I have a hint?", now=at(20))  # help keeps the item's clock running
    first = tutor.send(student_id, "t1", WRONG, now=at(42))  # a retry: the hint re-serves the item
    assert first["last_grade"]["retry"] is False and first["current_item"]["tries"] == 1
    tutor.send(student_id, "t1", WRONG, now=at(50))
    answers, rows = reflections(get_store()).since(student_id, datetime.now(UTC) - timedelta(days=30))
    assert [(a["seconds"], a["hints_used"]) for a in answers] == [(42.0, 1), (8.0, 1)]
    history = summarise(answers, rows, datetime.now(UTC))
    assert history["time_on_task_s"] == 50.0 and history["skills"][0]["time_on_task_s"] == 50.0
    assert history["recent_sessions"][0]["time_on_task_s"] == 50.0

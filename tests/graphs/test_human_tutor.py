"""The student graph waits for a human tutor after an escalation and resumes with the reply."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langgraph.types import Command

from tests.factories import NOW, make_learner
from tests.graphs.test_student_graph import WRONG, fail_three
from tutormesh.agents.human_tutor import HUMAN_TUTOR
from tutormesh.core.settings import Settings
from tutormesh.graphs.runtime import Tutor, open_tutor
from tutormesh.tools.store import get_store


@pytest.fixture
def tutor(profile: Settings) -> Iterator[Tutor]:
    with open_tutor(profile) as opened:
        yield opened


def test_escalation_interrupts_until_a_human_replies(tutor: Tutor) -> None:
    student_id = make_learner(get_store(), week=14, covered=10)
    state = fail_three(tutor, student_id, "t-human")
    assert state["negotiations"][0]["status"] == "escalated"
    config = {"configurable": {"thread_id": "t-human", "student_id": student_id}}
    pending = tutor.graph.get_state(config).interrupts
    assert len(pending) == 1 and pending[0].value["kind"] == HUMAN_TUTOR
    escalation_id = get_store().escalations(student_id)[0]["id"]
    assert pending[0].value["escalation_id"] == escalation_id

    resumed = tutor.graph.invoke(Command(resume={"author": "Ms. Rivera", "text": "Let's talk tomorrow."}), config,
                                 durability="exit")
    reply = resumed["messages"][-1]
    assert reply.type == "ai" and reply.name == "Ms. Rivera" and reply.content == "Let's talk tomorrow."
    assert reply.additional_kwargs == {HUMAN_TUTOR: True, "escalation_id": escalation_id}
    assert not tutor.graph.get_state(config).interrupts


def test_a_student_who_keeps_practising_is_not_blocked_by_the_wait(tutor: Tutor) -> None:
    student_id = make_learner(get_store(), week=14, covered=10)
    fail_three(tutor, student_id, "t-on")
    state = tutor.send(student_id, "t-on", "practice", now=NOW)
    assert state["current_item"] is not None
    assert not tutor.graph.get_state({"configurable": {"thread_id": "t-on"}}).interrupts
    again = tutor.send(student_id, "t-on", WRONG, now=NOW)  # deadlocks again while still waiting
    assert again["negotiations"][0]["status"] == "escalated"
    assert len(get_store().escalations(student_id)) == 1  # one request waits in the inbox, not one per answer

"""The student graph end to end on both checkpointers: practice, struggle, every negotiation branch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.factories import NOW, make_learner
from tutormesh.core.settings import Settings
from tutormesh.graphs.runtime import Tutor, new_replies, open_tutor
from tutormesh.graphs.student.context import StudentContext
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.store import get_store

WRONG = "x = 12345"


@pytest.fixture
def tutor(profile: Settings) -> Iterator[Tutor]:
    with open_tutor(profile) as opened:
        yield opened


def later(days: int) -> str:
    return (datetime.fromisoformat(NOW) + timedelta(days=days)).isoformat()


def fail_three(tutor: Tutor, student_id: str, thread: str, now: str = NOW) -> dict[str, Any]:
    tutor.send(student_id, thread, "I want to practice linear equations", now=now)
    state: dict[str, Any] = {}
    for _ in range(3):
        state = tutor.send(student_id, thread, WRONG, now=now)
    return state


def types(negotiation: dict[str, Any]) -> list[str]:
    return [m["type"] for m in negotiation["messages"]]


def test_practice_grades_answers_and_traces_mastery(tutor: Tutor) -> None:
    student_id = make_learner(get_store(), week=5, covered=7)
    state = tutor.send(student_id, "t1", "Hi! I want to practice linear equations.", now=NOW)
    assert state["intent"] == "practice" and state["current_item"]["prompt"] in new_replies(state)[0]
    item = load_curriculum().item(state["current_item"]["id"])
    before = state["mastery"].get(item.skill, 0.0)
    state = tutor.send(student_id, "t1", item.answer, now=NOW)
    assert state["last_grade"]["correct"] is True
    assert state["mastery"][item.skill] > before
    assert state["current_item"]["id"] != item.id
    wrong = tutor.send(student_id, "t1", WRONG, now=NOW)
    assert wrong["last_grade"]["correct"] is False and "Not quite" in new_replies(wrong)[0]


def test_seed_scenario_three_failures_negotiate_a_slower_pace(tutor: Tutor) -> None:
    store = get_store()
    # An established visual learner: 14 of 20 answers after a picture were right, so three wrong
    # answers in a row (after whatever content Thompson sampling shows) still leave visual >= 0.5.
    evidence = {"visual": [14.0, 6.0], "text": [2.0, 2.0], "worked_example": [2.0, 2.0], "recap": [1.2, 2.8]}
    student_id = make_learner(store, week=5, covered=7, style_evidence=evidence)
    state = fail_three(tutor, student_id, "t-seed")
    negotiation = state["negotiations"][0]
    assert types(negotiation) == ["PROPOSE", "COUNTEROFFER", "ACCEPT", "COMMIT"]
    propose, offer, accept, _ = negotiation["messages"]
    assert propose["kind"] == "PACE_ADJUSTMENT" and propose["proposed_pace"] == "slow"
    assert offer["estimated_impact"] == "+3 weeks to complete unit"
    assert accept["next_review"] == "1 week"
    assert state["profile"]["pace"] == "slow" and negotiation["status"] == "committed"
    plan = store.plan(student_id, "math", today=datetime.fromisoformat(NOW).date())
    assert plan["pace"] == "slow" and plan["difficulty_ramp"] is True
    assert "Add 2 more visual examples per concept" in plan["adjustments"]
    assert state["current_item"]["difficulty"] == 1  # easier-to-harder ramp restarts at level 1
    # Persisted in SQL, not only in graph state.
    assert types(store.negotiations(student_id)[0]) == types(negotiation)


def test_reject_then_a_smaller_ask_is_accepted(tutor: Tutor) -> None:
    # Week 11 with 10 left: slowing down misses the deadline, 0.1 spare weeks buy one support item.
    student_id = make_learner(get_store(), week=11, covered=10)
    negotiation = fail_three(tutor, student_id, "t-reject")["negotiations"][0]
    assert types(negotiation) == ["PROPOSE", "REJECT", "PROPOSE", "COUNTEROFFER", "ACCEPT", "COMMIT"]
    assert negotiation["messages"][2]["kind"] == "SUPPORT_ADJUSTMENT"


def test_deadlock_escalates_to_a_human_tutor(tutor: Tutor) -> None:
    store = get_store()
    student_id = make_learner(store, week=14, covered=10)
    state = fail_three(tutor, student_id, "t-deadlock")
    negotiation = state["negotiations"][0]
    assert types(negotiation) == ["PROPOSE", "REJECT", "PROPOSE", "REJECT", "ESCALATE", "ESCALATE"]
    assert negotiation["status"] == "escalated" and negotiation["rounds"] == 2
    escalations = store.escalations(student_id)
    assert len(escalations) == 1 and escalations[0]["negotiation_id"] == negotiation["id"]
    assert "human tutor" in new_replies(state)[-1]
    assert state["profile"]["pace"] == "moderate"


def test_no_improvement_by_review_date_renegotiates(tutor: Tutor) -> None:
    store = get_store()
    student_id = make_learner(store, week=5, covered=7)
    first = fail_three(tutor, student_id, "t-review")["negotiations"][0]
    state = tutor.send(student_id, "t-review", WRONG, now=later(3))
    assert len(state["negotiations"]) == 1  # review not due yet
    state = tutor.send(student_id, "t-review", WRONG, now=later(8))
    latest, original = state["negotiations"][0], state["negotiations"][1]
    assert original["id"] == first["id"] and original["status"] == "renegotiated"
    assert latest["parent_id"] == first["id"]
    assert latest["messages"][0]["kind"] == "SUPPORT_ADJUSTMENT"  # already slow: ask for what is missing
    assert latest["messages"][0]["requested_adjustments"] == ["Recap summary at the end of each topic"]


def test_improvement_by_review_date_keeps_the_agreement(tutor: Tutor) -> None:
    store = get_store()
    student_id = make_learner(store, week=5, covered=7)
    first = fail_three(tutor, student_id, "t-kept")["negotiations"][0]
    store.set_mastery(student_id, first["skill"], 0.9)
    state = tutor.send(student_id, "t-kept", "review my progress", now=later(8))
    assert state["negotiations"][0]["status"] == "kept"


def test_state_resumes_after_reopening_the_checkpointer(profile: Settings) -> None:
    student_id = make_learner(get_store())
    with open_tutor(profile) as tutor:
        first = tutor.send(student_id, "t-resume", "I want to practice linear equations", now=NOW)
    with open_tutor(profile) as tutor:
        resumed = tutor.state("t-resume")
        assert resumed["current_item"] == first["current_item"]
        item = load_curriculum().item(resumed["current_item"]["id"])
        assert tutor.send(student_id, "t-resume", item.answer, now=NOW)["last_grade"]["correct"] is True


def test_missing_student_id_is_a_clear_error(tutor: Tutor) -> None:
    with pytest.raises(ValueError, match="student_id is required"):
        tutor.graph.invoke({"messages": [{"role": "user", "content": "hi"}]}, {"configurable": {"thread_id": "x"}},
                           context=StudentContext(thread_id="x"))


def test_checkpoints_per_thread_stay_bounded(profile: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile, "prune_every_turns", 4)
    monkeypatch.setattr(profile, "state_message_window", 6)
    student_id = make_learner(get_store())
    with open_tutor(profile) as tutor:
        for _ in range(10):
            state = tutor.send(student_id, "t-bounded", "I want to practice slope", now=NOW)
        kept = list(tutor.saver.list({"configurable": {"thread_id": "t-bounded"}}))
        assert state["turns"] == 10
        assert 1 <= len(kept) <= 4  # one per turn (durability "exit"), pruned every 4 turns
        assert len(state["messages"]) <= 6  # the window; SQL keeps the full history
        assert len(get_store().history("t-bounded")) == 20


def test_free_form_question_streams_tokens_from_the_explain_node(profile: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile, "llm_enabled", False)  # tier 1 answers; it still streams through the relay
    student_id = make_learner(get_store())
    with open_tutor(profile) as tutor:
        events = list(tutor.stream(student_id, "t-ask", "why do we flip the sign when we move a term?", now=NOW))
    tokens = [e for e in events if e["event"] == "token"]
    assert tokens and all(e["node"] == "explain" for e in tokens)
    assert events[-1]["event"] == "state" and "".join(e["text"] for e in tokens).strip()


def test_answers_learn_from_the_same_engagement_rows_the_store_holds(tutor: Tutor) -> None:
    """The state's window of earlier answers is the store's latest rows, also after answers in another thread."""
    store = get_store()
    student_id = make_learner(store, week=5, covered=7)
    curriculum = load_curriculum()
    given = {"n": 0}

    def answer(thread: str) -> dict[str, Any]:
        """Answer the open problem (two right, one wrong) until the answer is graded."""
        for _ in range(4):
            item = curriculum.item(tutor.state(thread)["current_item"]["id"])
            given["n"] += 1
            state = tutor.send(student_id, thread, WRONG if given["n"] % 3 == 0 else item.answer, now=NOW)
            if state["understanding"]["is_attempt"]:
                return state
        raise AssertionError("no answer was graded")

    for thread in ("t1", "t2"):
        tutor.send(student_id, thread, "I want to practice linear equations", now=NOW)
    for _ in range(9):  # more answers than the window holds
        state = answer("t1")
        assert state["answer_window"]["rows"] == store.recent_engagement(student_id, limit=7)
    for _ in range(2):
        answer("t2")
    stale = tutor.state("t1")["answer_window"]
    state = answer("t1")  # the window t1 carries misses t2's answers: the turn reads the store
    rows = store.recent_engagement(student_id, limit=7)
    assert state["answer_window"]["rows"] == rows and rows[:-1] != stale["rows"][1:]
    assert state["answer_window"]["answers"] == sum(r["attempts"] for r in store.mastery(student_id).values()) == 12


def test_an_answer_is_written_in_one_transaction_with_what_it_taught(tutor: Tutor) -> None:
    """Attempt, grade, engagement, mastery, the learned profile and its adaptations: one commit."""
    from sqlalchemy import event

    store = get_store()
    student_id = make_learner(store, week=5, covered=7)
    served = tutor.send(student_id, "t1", "I want to practice linear equations", now=NOW)
    item = load_curriculum().item(served["current_item"]["id"])
    commits: list[int] = []
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(store.engine, "commit", listener)
    try:
        state = tutor.send(student_id, "t1", item.answer, now=NOW)
    finally:
        event.remove(store.engine, "commit", listener)
    assert state["last_grade"]["correct"] is True and len(commits) == 1
    stored = store.profile(student_id)
    assert stored["style_counts"] == state["profile"]["style_counts"] != served["profile"]["style_counts"]

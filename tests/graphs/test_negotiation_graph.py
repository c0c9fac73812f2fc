"""The negotiation graph on its own: its state holds each protocol message once, as SQL does."""

from __future__ import annotations

from tests.factories import NOW, make_learner
from tutormesh.graphs.negotiation.context import NegotiationContext
from tutormesh.graphs.negotiation.graph import graph
from tutormesh.tools.store import get_store


def negotiate(student_id: str) -> dict:
    return graph.invoke({"student_id": student_id, "subject": "math", "skill": "two-step-equations",
                         "reason": "Student failed 3/3 practice problems on Two-step equations"},
                        context=NegotiationContext(now=NOW, thread_id="t-neg"))


def test_deadlock_state_matches_sql_and_the_escalation_counts_real_rounds() -> None:
    store = get_store()
    student_id = make_learner(store, week=14, covered=10)
    state = negotiate(student_id)
    stored = store.negotiations(student_id)[0]
    assert [m["type"] for m in state["protocol"]] == [m["type"] for m in stored["messages"]]
    assert [m["type"] for m in state["protocol"]] == ["PROPOSE", "REJECT", "PROPOSE", "REJECT", "ESCALATE",
                                                      "ESCALATE"]
    assert "Deadlock after 2 round(s)" in state["protocol"][-1]["reason"]
    assert store.escalations(student_id)[0]["reason"].startswith("Deadlock after 2 round(s)")


def test_committed_negotiation_state_matches_sql() -> None:
    store = get_store()
    student_id = make_learner(store, week=5, covered=7)
    state = negotiate(student_id)
    stored = store.negotiations(student_id)[0]
    assert [m["type"] for m in state["protocol"]] == ["PROPOSE", "COUNTEROFFER", "ACCEPT", "COMMIT"]
    assert state["protocol"] == stored["messages"]
    assert state["status"] == "committed"

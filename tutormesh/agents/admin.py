"""Admin agent: takes escalations (deadlocked or failed agreements) to a human tutor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tutormesh.agents.protocol import Escalate, dump
from tutormesh.tools.store import get_store


def run(state: Mapping[str, Any]) -> dict[str, Any]:
    """Open a human-tutor escalation record and close the negotiation as escalated."""
    store = get_store()
    protocol = state.get("protocol") or []
    reason = (protocol[-1].get("reason") if protocol else None) or state.get("reason") or "Student needs help"
    negotiation_id = state.get("negotiation_id")
    escalation_id = store.open_escalation(state["student_id"], negotiation_id, reason)
    message = dump(Escalate(sender="admin_agent", reason=f"Human tutor requested: {reason}",
                            escalation_id=escalation_id))
    if negotiation_id:
        store.add_negotiation_message(negotiation_id, message)
        store.close_negotiation(negotiation_id, "escalated", outcome=reason)
    return {"protocol": [message], "status": "escalated", "escalation_id": escalation_id}

"""The human tutor in the student graph: after an escalation the thread waits for a person's reply.

`await_tutor` calls LangGraph's `interrupt()`, so the thread's checkpoint records that it waits
(Studio shows it too); the console's reply resumes it with `Command(resume={"author", "text",
"escalation_id"})` and the reply joins the state as an AI-side message named after the person, with
the `human_tutor` marker the chat page shows. A student who keeps practising meanwhile simply
starts a new run; the reply then arrives as a state update instead (see `server/tutoring.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.messages import AIMessage
from langgraph.types import interrupt

HUMAN_TUTOR = "human_tutor"


def human_message(author: str, text: str, escalation_id: int | None) -> AIMessage:
    """A tutor's reply in graph state: the person's name and a marker that it came from a human."""
    return AIMessage(text, name=author, additional_kwargs={HUMAN_TUTOR: True, "escalation_id": escalation_id})


def escalation_of(negotiation: Mapping[str, Any]) -> int | None:
    """The escalation id an escalated negotiation's ESCALATE message carries, if any."""
    for message in reversed(negotiation.get("messages") or []):
        if message.get("type") == "ESCALATE" and message.get("escalation_id") is not None:
            return int(message["escalation_id"])
    return None


def after_negotiation(state: Mapping[str, Any]) -> Literal["await_tutor", "__end__"]:
    """Wait for a human when the negotiation just ended in an escalation; else the turn is done."""
    latest = (state.get("negotiations") or [{}])[0]
    return "await_tutor" if latest.get("status") == "escalated" and escalation_of(latest) else "__end__"


def await_tutor(state: Mapping[str, Any]) -> dict[str, Any]:
    """Pause until a human tutor answers the escalation; then add their reply to the conversation."""
    latest = (state.get("negotiations") or [{}])[0]
    escalation_id = escalation_of(latest)
    reply = interrupt({"kind": HUMAN_TUTOR, "escalation_id": escalation_id, "student_id": state.get("student_id"),
                       "reason": latest.get("outcome", "")})
    if isinstance(reply, str):  # typed by hand in Studio
        reply = {"author": "Tutor", "text": reply}
    return {"messages": [human_message(str(reply.get("author") or "Tutor"), str(reply.get("text", "")),
                                       escalation_id)]}

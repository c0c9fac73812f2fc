"""Negotiation graph state: one negotiation between a student agent and an SME agent."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from tutormesh.graphs.reducers import extend_protocol


class NegotiationInput(TypedDict, total=False):
    """Who negotiates about what, and why (the trigger)."""

    student_id: str
    subject: str
    skill: str
    reason: str
    parent_id: str | None


class NegotiationState(NegotiationInput, total=False):
    """The typed protocol messages so far (JSON of `agents.protocol` types) and the outcome."""

    negotiation_id: str
    protocol: Annotated[list[dict[str, Any]], extend_protocol]
    status: str
    escalation_id: int | None

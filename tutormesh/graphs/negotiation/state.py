"""Negotiation graph state: one negotiation between a student agent and an SME agent."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


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
    protocol: Annotated[list[dict[str, Any]], operator.add]
    status: str
    escalation_id: int | None

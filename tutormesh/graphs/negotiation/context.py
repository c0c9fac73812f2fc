"""Negotiation graph run context: the conversation that asked for the negotiation."""

from __future__ import annotations

from dataclasses import dataclass, field

from tutormesh.graphs.context import RunContext


@dataclass(kw_only=True)
class NegotiationContext(RunContext):
    """Where the negotiation was opened from; its SME and admin subgraphs receive this context."""

    thread_id: str = field(
        default="",
        metadata={"description": "The student's conversation thread that triggered the negotiation."},
    )

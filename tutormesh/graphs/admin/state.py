"""Admin graph state: an escalation request and its record."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from tutormesh.graphs.reducers import extend_protocol


class AdminState(TypedDict, total=False):
    """Keys shared with the negotiation graph, so this graph runs there as a subgraph."""

    student_id: str
    negotiation_id: str
    reason: str
    protocol: Annotated[list[dict[str, Any]], extend_protocol]
    status: str
    escalation_id: int | None

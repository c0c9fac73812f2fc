"""SME graph state: a subject, a student, and the protocol message to answer."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from tutormesh.graphs.reducers import extend_protocol


class SMEState(TypedDict, total=False):
    """Keys shared with the negotiation graph, so this graph runs there as a subgraph."""

    subject: str
    student_id: str
    negotiation_id: str
    protocol: Annotated[list[dict[str, Any]], extend_protocol]

"""Admin graph state: an escalation request and its record."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class AdminState(TypedDict, total=False):
    """Keys shared with the negotiation graph, so this graph runs there as a subgraph."""

    student_id: str
    negotiation_id: str
    reason: str
    protocol: Annotated[list[dict[str, Any]], operator.add]
    status: str
    escalation_id: int | None

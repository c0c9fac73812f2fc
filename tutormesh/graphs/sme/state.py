"""SME graph state: a subject, a student, and the protocol message to answer."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class SMEState(TypedDict, total=False):
    """Keys shared with the negotiation graph, so this graph runs there as a subgraph."""

    subject: str
    student_id: str
    negotiation_id: str
    protocol: Annotated[list[dict[str, Any]], operator.add]

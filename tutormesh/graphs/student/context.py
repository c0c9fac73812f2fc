"""Student graph run context: whose conversation this is, and on which thread."""

from __future__ import annotations

from dataclasses import dataclass, field

from tutormesh.graphs.context import RunContext


@dataclass(kw_only=True)
class StudentContext(RunContext):
    """Who is talking; set by the API and CLI from the signed-in student, or in Studio's form."""

    student_id: str = field(
        default="",
        metadata={"description": "The student whose learner model this turn reads and updates (required)."},
    )
    thread_id: str = field(
        default="",
        metadata={"description": "The conversation the turn's history is recorded under in SQL."},
    )

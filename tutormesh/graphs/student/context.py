"""Student graph run context: whose conversation this is, and on which thread."""

from __future__ import annotations

from dataclasses import dataclass, field

from tutormesh import prompts
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
    adaptive: bool = field(
        default=True,
        metadata={"description": "Adapt to the learner (content type, pace, weaknesses, goals); off: a fixed "
                                 "sequence with text only, difficulty 1..5 in order and no negotiation (the "
                                 "evals' baseline)."},
    )
    # The text of each prompt this graph sends, shown (and editable) in Studio's form.
    explainer_system: str = prompts.field_for("explainer/system")
    explainer_user: str = prompts.field_for("explainer/user")
    explainer_retry: str = prompts.field_for("explainer/retry")
    guards_judge: str = prompts.field_for("guards/judge")
    guards_judge_input: str = prompts.field_for("guards/judge_input")

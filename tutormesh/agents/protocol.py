"""The typed negotiation protocol between a student agent and an SME agent.

Every message is validated here, persisted in `negotiation_messages`, and kept in graph state as
plain JSON (so checkpoints and LangGraph Studio show exactly what was said).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Pace = Literal["slow", "moderate", "fast"]
PACES: tuple[Pace, ...] = ("slow", "moderate", "fast")
Kind = Literal["PACE_ADJUSTMENT", "SUPPORT_ADJUSTMENT"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sender: Literal["student_agent", "sme_agent", "admin_agent"]


class Propose(_Message):
    """Student agent asks for a change to the delivery plan."""

    type: Literal["PROPOSE"] = "PROPOSE"
    kind: Kind
    current_pace: Pace
    proposed_pace: Pace
    requested_adjustments: list[str] = Field(default_factory=list)
    reason: str
    student_profile: dict[str, Any] = Field(default_factory=dict)


class Counteroffer(_Message):
    """SME agent offers what the curriculum can afford, with its cost."""

    type: Literal["COUNTEROFFER"] = "COUNTEROFFER"
    proposed_pace: Pace
    slow_topics: int | None = Field(None, description="Topics delivered slowly before the pace returns.")
    adjustments: list[str]
    trade_off: str
    estimated_impact: str
    constraint: dict[str, Any] = Field(default_factory=dict)


class Accept(_Message):
    """Student agent accepts the subset of a counteroffer that fits the learner."""

    type: Literal["ACCEPT"] = "ACCEPT"
    agreed_pace: Pace
    agreed_adjustments: list[str]
    commitment: str
    next_review: str
    review_at: str


class Reject(_Message):
    """Either side declines; the SME says which constraint makes the request impossible."""

    type: Literal["REJECT"] = "REJECT"
    reason: str
    constraint: dict[str, Any] = Field(default_factory=dict)


class Commit(_Message):
    """SME agent confirms the agreed change is now in the delivery plan."""

    type: Literal["COMMIT"] = "COMMIT"
    plan: dict[str, Any]


class Escalate(_Message):
    """A deadlock or a failed agreement goes to the admin agent and a human tutor."""

    type: Literal["ESCALATE"] = "ESCALATE"
    reason: str
    escalation_id: int | None = None


NegotiationMessage = Annotated[
    Propose | Counteroffer | Accept | Reject | Commit | Escalate, Field(discriminator="type")
]
_adapter: TypeAdapter[NegotiationMessage] = TypeAdapter(NegotiationMessage)


def parse_message(data: dict[str, Any]) -> NegotiationMessage:
    """Validate a JSON message into its protocol type (raises pydantic.ValidationError)."""
    return _adapter.validate_python(data)


def dump(message: NegotiationMessage) -> dict[str, Any]:
    """Serialise a message to the JSON kept in state and SQL."""
    return message.model_dump(mode="json")

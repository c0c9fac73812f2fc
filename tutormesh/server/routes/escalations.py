"""The human-tutor inbox: escalations to claim, read, answer and resolve (teachers, tutors, admins)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from tutormesh.server import tutoring
from tutormesh.server.deps import ServicesDep
from tutormesh.server.staff import ConsoleUser, audit, scope_of, stores

router = APIRouter(prefix="/escalations", tags=["escalations"])
EscalationId = Annotated[int, Path(ge=1, le=2**31)]


class EscalationOut(BaseModel):
    """One escalation in the inbox; `age_s` and `overdue` (unanswered past `sla_s`) drive the SLA view."""

    id: int
    student: str = Field(description="the student's username")
    student_id: str
    cohort: str | None
    reason: str
    status: Literal["open", "claimed", "resolved"]
    claimed_by: str | None = Field(description="username of the claiming tutor")
    created_at: str
    claimed_at: str | None
    first_reply_at: str | None
    resolved_at: str | None
    resolution: str
    age_s: float
    sla_s: float
    overdue: bool
    negotiation_id: str | None


class TranscriptMessage(BaseModel):
    """A message of the student's thread; `author` names a human tutor."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str
    author: str | None = None


class EscalationDetail(EscalationOut):
    """An escalation with the transcript and the negotiation that led to it."""

    thread_id: str | None
    transcript: list[TranscriptMessage]
    negotiation: dict[str, Any] | None = Field(description="the negotiation with its typed protocol messages")


class ReplyIn(BaseModel):
    """What the tutor says to the student."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    content: str = Field(min_length=1, max_length=4000)


class ReplyOut(BaseModel):
    """The stored reply, as the student's thread shows it."""

    id: int
    thread_id: str
    author: str
    content: str
    created_at: str
    resumed_graph: bool = Field(description="the student graph was waiting at its interrupt and resumed")


class ResolveIn(BaseModel):
    """Why the escalation is closed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=2000)


def _sla(services: ServicesDep) -> float:
    return services.settings.escalation_sla_minutes * 60


@router.get("")
async def inbox(user: ConsoleUser, services: ServicesDep,
                status: Annotated[Literal["open", "claimed", "resolved"] | SkipJsonSchema[None], Query()] = None
                ) -> list[EscalationOut]:
    """List escalations in your cohorts (admins: all), oldest waiting first."""
    def rows() -> list[dict[str, Any]]:
        return stores(services).escalations.inbox(scope_of(services, user), status=status, sla_s=_sla(services))

    return [EscalationOut(**r) for r in await anyio.to_thread.run_sync(rows)]


@router.get("/{escalation_id}", responses={404: {"description": "no such escalation, or not in your cohorts"}})
async def read(escalation_id: EscalationId, user: ConsoleUser, services: ServicesDep) -> EscalationDetail:
    """Return the escalation, the student's transcript and the negotiation that ended in it (audited)."""
    def view() -> dict[str, Any]:
        esc = stores(services).escalations.get(escalation_id, scope_of(services, user), sla_s=_sla(services))
        audit(services, user, "read_escalation", student_id=esc["student_id"], target=f"escalation:{escalation_id}")
        transcript = services.learner.history(esc["thread_id"]) if esc["thread_id"] else []
        negotiation = None
        if esc["negotiation_id"]:
            negotiation = next((n for n in services.learner.negotiations(esc["student_id"], limit=50)
                                if n["id"] == esc["negotiation_id"]), None)
        return {**esc, "transcript": transcript, "negotiation": negotiation}

    return EscalationDetail(**await anyio.to_thread.run_sync(view))


@router.post("/{escalation_id}/claim", responses={404: {}, 409: {"description": "claimed by someone else"}})
async def claim(escalation_id: EscalationId, user: ConsoleUser, services: ServicesDep) -> EscalationOut:
    """Take an escalation: it is yours to answer."""
    def run() -> dict[str, Any]:
        console, scope = stores(services), scope_of(services, user)
        console.escalations.claim(escalation_id, user.id, scope)
        return console.escalations.get(escalation_id, scope, sla_s=_sla(services))

    row = await anyio.to_thread.run_sync(run)
    row.pop("thread_id", None)
    return EscalationOut(**row)


@router.post("/{escalation_id}/reply", status_code=201, responses={404: {}, 409: {"description": "not claimed by you"}})
async def reply(escalation_id: EscalationId, body: ReplyIn, user: ConsoleUser, services: ServicesDep) -> ReplyOut:
    """Answer the student: the reply appears in their thread as a message from you, live on an open page."""
    return ReplyOut(**await anyio.to_thread.run_sync(tutoring.reply, services, user, escalation_id, body.content))


@router.post("/{escalation_id}/resolve", responses={404: {}, 409: {}})
async def resolve(escalation_id: EscalationId, body: ResolveIn, user: ConsoleUser,
                  services: ServicesDep) -> EscalationOut:
    """Close the escalation with a reason (the claiming tutor, or an admin)."""
    def run() -> dict[str, Any]:
        console, scope = stores(services), scope_of(services, user)
        console.escalations.resolve(escalation_id, user.id, scope, reason=body.reason.strip(),
                                    admin=user.role == "admin")
        row = console.escalations.get(escalation_id, scope, sla_s=_sla(services))
        audit(services, user, "resolve_escalation", student_id=row["student_id"], target=f"escalation:{escalation_id}")
        return row

    row = await anyio.to_thread.run_sync(run)
    row.pop("thread_id", None)
    return EscalationOut(**row)

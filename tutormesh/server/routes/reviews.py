"""Review flags: answers the graders were unsure of, resolved (and regraded) by a human."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from tutormesh.core.db import sessionmaker_for
from tutormesh.core.stores.assessment import AssessmentStore
from tutormesh.server.deps import ServicesDep
from tutormesh.server.staff import ConsoleUser, audit, scope_of

router = APIRouter(prefix="/flags", tags=["review flags"])
FlagId = Annotated[int, Path(ge=1, le=2**31)]


class FlagOut(BaseModel):
    """A flagged answer with its current grade and the student's username."""

    id: int
    quiz_id: str
    submission_id: str
    question_id: str
    prompt: str
    student: str | None
    cohort: str | None
    reason: str
    status: str
    answer: str
    score: float
    max_points: float
    correct: bool
    confidence: float
    grader: str
    feedback: str
    created_at: str | None
    resolved_at: str | None
    resolution: str
    override_score: float | None


class ResolveFlagIn(BaseModel):
    """Resolve a flag; give `score` to override the grade (0 to the question's points)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=2000)
    score: float | None = Field(default=None, ge=0, le=100)


class FlagResolution(BaseModel):
    """What the resolution changed."""

    id: int
    status: str
    overridden: bool
    correct: bool
    score: float
    max_points: float
    submission_score: float | None = None


@router.get("")
async def list_flags(user: ConsoleUser, services: ServicesDep,
                     status: Annotated[Literal["open", "resolved"], Query()] = "open",
                     quiz_id: Annotated[str | SkipJsonSchema[None], Query(max_length=64)] = None) -> list[FlagOut]:
    """List review flags of your cohorts' submissions (admins: all)."""
    def rows() -> list[dict[str, Any]]:  # sharded: every shard's flags, usernames from the directory
        scope = scope_of(services, user)
        return AssessmentStore(sessionmaker_for(services.settings)).flags(scope, status=status, quiz_id=quiz_id)

    return [FlagOut(**r) for r in await anyio.to_thread.run_sync(rows)]


@router.post("/{flag_id}/resolve", responses={404: {}, 409: {"description": "already resolved"}})
async def resolve_flag(flag_id: FlagId, body: ResolveFlagIn, user: ConsoleUser,
                       services: ServicesDep) -> FlagResolution:
    """Resolve a flag; with `score`, override the grade (result, learner model and item analysis, once)."""
    def run() -> dict[str, Any]:
        scope = scope_of(services, user)  # sharded: on the student's shard, held for the call
        out = AssessmentStore(sessionmaker_for(services.settings)).resolve_flag(
            flag_id, scope, user_id=user.id, reason=body.reason.strip(), score=body.score)
        audit(services, user, "override_grade" if out["overridden"] else "resolve_flag", student_id=out["student_id"],
              target=f"flag:{flag_id}")
        return out

    return FlagResolution(**await anyio.to_thread.run_sync(run))

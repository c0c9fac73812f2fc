"""Administration for the console (admins only): cohorts, roster import, budgets, tutors, platform health."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Invalid, NotFound
from tutormesh.core.models import StaffProfile, User, utcnow
from tutormesh.core.models.assessment import AssessmentEvent, Submission, SubmissionResult
from tutormesh.core.stores.ledger import CostLedger
from tutormesh.server import roster
from tutormesh.server.deps import Admin, ServicesDep
from tutormesh.server.fields import NOT_BLANK, Cohort
from tutormesh.server.security import hash_password
from tutormesh.server.staff import stores

router = APIRouter(prefix="/admin", tags=["admin"])
UserId = Annotated[str, Path(pattern=r"^[a-f0-9]{32}$", description="a user id")]


class CohortRow(BaseModel):
    """A cohort and who is in it."""

    cohort: str
    students: int
    teachers: int
    tutors: int


class RosterIn(BaseModel):
    """A roster as CSV text; `apply=false` checks it without writing anything."""

    model_config = ConfigDict(extra="forbid")
    csv: str = Field(min_length=1, max_length=60_000)
    apply: bool = False


class RosterError(BaseModel):
    """Why one row cannot be imported."""

    line: int
    username: str | None
    error: str


class RosterResult(BaseModel):
    """The dry run or import result: nothing is written while any row has an error."""

    rows: int
    valid: int
    errors: list[RosterError]
    applied: bool
    created: list[dict[str, Any]] = Field(description="created users; `password` only where one was generated")


class BudgetIn(BaseModel):
    """A student's own LLM budget in USD."""

    model_config = ConfigDict(extra="forbid")
    daily_usd: float = Field(ge=0, le=1000)
    monthly_usd: float = Field(ge=0, le=10_000)


class BudgetOut(BudgetIn):
    """The budget now in force."""

    user_id: str


class StaffProfileIn(BaseModel):
    """How a staff member is named to students; for tutors, the cohorts they serve."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")  # NOT_BLANK means what `str.strip` means
    display_name: str | None = Field(default=None, max_length=80, pattern=NOT_BLANK)
    cohorts: list[Cohort] | None = Field(default=None, max_length=200)


class StaffProfileOut(BaseModel):
    """A staff profile."""

    user_id: str
    display_name: str
    cohorts: list[str]


class Health(BaseModel):
    """Platform health for admins: accounts, the escalation SLA, grading backlog and outbox."""

    database: str
    profile: str
    users: dict[str, int]
    escalations: dict[str, int]
    escalation_sla_minutes: float
    submissions_queued: int
    oldest_queued_s: float | None
    last_graded_at: str | None
    events_undelivered: int
    tutor_ready: bool


@router.get("/cohorts")
async def cohorts(_admin: Admin, services: ServicesDep) -> list[CohortRow]:
    """List every cohort with its number of students, teachers and tutors."""
    def rows() -> list[CohortRow]:
        counts: dict[str, dict[str, int]] = {}
        with sessionmaker_for(services.settings)() as s:
            for cohort, role, n in s.execute(select(User.cohort, User.role, func.count())
                                              .where(User.cohort.is_not(None)).group_by(User.cohort, User.role)):
                counts.setdefault(str(cohort), {})[role] = n
        for staff_row in _tutor_cohorts(services):
            for cohort in staff_row:
                counts.setdefault(cohort, {}).setdefault("tutor_pool", 0)
                counts[cohort]["tutor_pool"] += 1
        return [CohortRow(cohort=c, students=v.get("student", 0), teachers=v.get("teacher", 0),
                          tutors=v.get("tutor", 0) + v.get("tutor_pool", 0)) for c, v in sorted(counts.items())]

    return await anyio.to_thread.run_sync(rows)


def _tutor_cohorts(services: ServicesDep) -> list[list[str]]:
    """The cohorts of each pool tutor (a tutor with no cohort of their own serves those of their profile)."""
    query = (select(StaffProfile.cohorts).join(User, User.id == StaffProfile.user_id)
             .where(User.role == "tutor", User.cohort.is_(None)))
    with sessionmaker_for(services.settings)() as s:
        return [list(c or []) for c in s.scalars(query)]


@router.post("/roster", responses={422: {"description": "not a CSV roster (per-row errors come back with 200)"}})
async def import_roster(body: RosterIn, _admin: Admin, services: ServicesDep) -> RosterResult:
    """Check a CSV roster (dry run), or import it: every row or none, in one transaction."""
    result = await anyio.to_thread.run_sync(lambda: roster.run(sessionmaker_for(services.settings), body.csv,
                                                               apply=body.apply, hash_password=hash_password))
    return RosterResult(**result)


@router.put("/users/{user_id}/budget", responses={404: {}})
async def set_budget(user_id: UserId, body: BudgetIn, _admin: Admin, services: ServicesDep) -> BudgetOut:
    """Give a student their own daily and monthly LLM budget."""
    if body.daily_usd > body.monthly_usd:
        raise Invalid("daily_usd: must not exceed monthly_usd")

    def run() -> BudgetOut:
        user = services.accounts.get(user_id)
        if user is None or user["student_id"] is None:
            raise NotFound("student not found")
        CostLedger(sessionmaker_for(services.settings), services.settings).set_budget(
            user["student_id"], daily_usd=body.daily_usd, monthly_usd=body.monthly_usd)
        return BudgetOut(user_id=user_id, daily_usd=body.daily_usd, monthly_usd=body.monthly_usd)

    return await anyio.to_thread.run_sync(run)


@router.put("/users/{user_id}/staff-profile", responses={404: {}})
async def set_staff_profile(user_id: UserId, body: StaffProfileIn, _admin: Admin,
                            services: ServicesDep) -> StaffProfileOut:
    """Set a teacher's, tutor's or admin's display name, and the cohorts a tutor serves."""
    def run() -> StaffProfileOut:
        profile = stores(services).staff.set_profile(user_id, display_name=body.display_name, cohorts=body.cohorts)
        services.access.forget_user(user_id)
        return StaffProfileOut(user_id=user_id, **profile)

    return await anyio.to_thread.run_sync(run)


@router.get("/users/{user_id}/staff-profile", responses={404: {}})
async def staff_profile(user_id: UserId, _admin: Admin, services: ServicesDep) -> StaffProfileOut:
    """Read a staff member's profile."""
    profile = await anyio.to_thread.run_sync(stores(services).staff.profile, user_id)
    return StaffProfileOut(user_id=user_id, **profile)


@router.get("/health")
async def health(_admin: Admin, services: ServicesDep) -> Health:
    """Accounts per role, open and overdue escalations, the grading backlog and undelivered events."""
    def read() -> Health:
        now = utcnow()
        sla = services.settings.escalation_sla_minutes
        s: Session
        with sessionmaker_for(services.settings)() as s:
            users = dict(s.execute(select(User.role, func.count()).group_by(User.role)).all())
            queued, oldest = s.execute(select(func.count(), func.min(Submission.submitted_at))
                                       .where(Submission.status == "queued")).one()
            last = s.scalar(select(func.max(SubmissionResult.graded_at)))
            undelivered = s.scalar(select(func.count()).where(AssessmentEvent.delivered_at.is_(None))) or 0
        oldest_s = None if oldest is None else (now - (oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC))
                                                ).total_seconds()
        return Health(database="ok", profile="production" if services.settings.is_production else "embedded",
                      users=users, escalations=stores(services).escalations.counts(sla_s=sla * 60),
                      escalation_sla_minutes=sla, submissions_queued=queued or 0,
                      oldest_queued_s=None if oldest_s is None else round(oldest_s, 1),
                      last_graded_at=None if last is None else (last if last.tzinfo else last.replace(tzinfo=UTC))
                      .isoformat(), events_undelivered=undelivered, tutor_ready=services.tutor is not None)

    return await anyio.to_thread.run_sync(read)

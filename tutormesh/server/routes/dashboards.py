"""Cohort dashboards and a student's read-only record (teachers: own cohort; admins: any)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import NotFound
from tutormesh.core.models import User
from tutormesh.core.shards import get_router
from tutormesh.server import dashboards, thread_service
from tutormesh.server.deps import ServicesDep
from tutormesh.server.routes.profile import SessionHistory
from tutormesh.server.routes.threads import MessageOut, ThreadOut
from tutormesh.server.staff import ConsoleUser, Teaching, audit, check_cohort, scope_of

router = APIRouter(prefix="/dashboards", tags=["dashboards"])
Cohort = Annotated[str, Path(min_length=1, max_length=80)]
UserId = Annotated[str, Path(pattern=r"^[a-f0-9]{32}$", description="the student's user id")]
T = TypeVar("T")


class CohortDashboard(BaseModel):
    """Everything the teacher's cohort page shows; each chart has the numbers for a table too."""

    cohort: str
    heatmap: dict[str, Any] = Field(description="students x skills mastery (null: not practised)")
    struggling: list[dict[str, Any]]
    negotiations: dict[str, Any] = Field(description="negotiations per week by outcome, success rate")
    cost: dict[str, Any] = Field(description="this month's LLM spend per student vs budget")


class CohortList(BaseModel):
    """The cohorts you may open."""

    cohorts: list[str]


class StudentRecord(BaseModel):
    """A student's record, read-only: mastery history, plans, negotiations, threads and the latest transcript."""

    user_id: str
    student: str
    cohort: str | None
    mastery: dict[str, float]
    skills: dict[str, str]
    profile: dict[str, Any] = Field(description="the learner profile: goals, strengths, weaknesses, pace, style, "
                                    "cultural context and the latest adaptations with their reasons")
    session_history: SessionHistory = Field(description="the last 30 days of sessions")
    history: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    negotiations: list[dict[str, Any]]
    threads: list[ThreadOut]
    transcript: list[MessageOut] = Field(description="the latest thread's messages")


async def _read(services: ServicesDep, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with sessionmaker_for(services.settings)() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


@router.get("/cohorts")
async def my_cohorts(user: ConsoleUser, services: ServicesDep) -> CohortList:
    """List the cohorts you may see (admins: every cohort with a user)."""
    scope = await anyio.to_thread.run_sync(scope_of, services, user)
    if scope is not None:
        return CohortList(cohorts=sorted(scope))

    def all_cohorts(s: Session) -> CohortList:
        return CohortList(cohorts=sorted({c for c in s.scalars(select(User.cohort).distinct()) if c}))

    return await _read(services, all_cohorts)


@router.get("/cohorts/{cohort}", responses={404: {"description": "not your cohort"}})
async def cohort_dashboard(cohort: Cohort, user: Teaching, services: ServicesDep) -> CohortDashboard:
    """Mastery heatmap, struggling students, negotiation outcomes over time and cost vs budget."""
    check_cohort(scope_of(services, user), cohort)

    def build(s: Session) -> CohortDashboard:
        shards = get_router(services.settings)
        return CohortDashboard(cohort=cohort, heatmap=dashboards.heatmap(s, cohort, router=shards),
                               struggling=dashboards.struggling(s, cohort, router=shards),
                               negotiations=dashboards.negotiation_outcomes(s, cohort, router=shards),
                               cost=dashboards.cost(s, cohort, services.settings, router=shards))

    board = await _read(services, build)
    audit(services, user, "read_cohort_dashboard", target=f"cohort:{cohort}")
    return board


@router.get("/students/{user_id}", responses={404: {"description": "no such student in your cohorts"}},
            response_model_exclude_unset=True)  # a message's `author` only on a tutor's reply, as in the thread
async def student_record(user_id: UserId, user: ConsoleUser, services: ServicesDep) -> StudentRecord:
    """A student's mastery history, plan, negotiations and transcript (read-only; audited)."""
    scope = await anyio.to_thread.run_sync(scope_of, services, user)

    def build(s: Session) -> tuple[StudentRecord, str]:
        row = s.get(User, user_id)
        if row is None or row.role != "student" or row.student_id is None or (
                scope is not None and row.cohort not in scope):
            raise NotFound("student not found")
        sid, shards = row.student_id, get_router(services.settings)
        view = thread_service.learner_view(services, sid)
        recent = SessionHistory.model_validate(thread_service.session_history(services, sid))
        threads = services.accounts.threads(student_id=sid)
        transcript = services.learner.history(threads[0]["thread_id"]) if threads else []
        return StudentRecord(user_id=user_id, student=row.username, cohort=row.cohort, mastery=view["mastery"],
                             skills=view["skills"], profile=view["profile"],
                             session_history=recent,
                             history=dashboards.mastery_history(s, sid, router=shards),
                             plans=dashboards.plans(s, sid, router=shards),
                             negotiations=services.learner.negotiations(sid, limit=20),
                             threads=threads, transcript=transcript), sid

    record, student_id = await _read(services, build)
    audit(services, user, "read_student", student_id=student_id, target=f"user:{user_id}")
    return record

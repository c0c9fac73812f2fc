"""Teacher views: the students of a cohort with their mastery and threads (teachers: own cohort only)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from tutormesh.server import thread_service
from tutormesh.server.deps import ServicesDep, Staff, cohort_scope
from tutormesh.server.routes.threads import ThreadOut

router = APIRouter(prefix="/cohorts", tags=["cohorts"])
Cohort = Annotated[str, Path(min_length=1, max_length=80)]


class CohortStudent(BaseModel):
    """A student of the cohort: mastery per skill, pace and threads."""

    user_id: str
    username: str
    student_id: str
    pace: str
    mastery: dict[str, float] = Field(description="probability known, per skill")
    skills: dict[str, str] = Field(description="skill id -> title")
    threads: list[ThreadOut]


@router.get("/{cohort}/students", responses={
    401: {"description": "not signed in, or a bad, expired or revoked token"},
    403: {"description": "teachers and admins only"}, 404: {"description": "no such cohort, or not yours"},
    422: {"description": "malformed cohort"}}, response_model=list[CohortStudent])
async def cohort_students(cohort: Cohort, user: Staff, services: ServicesDep) -> list[dict[str, Any]]:
    """List the cohort's students: mastery per skill, pace, and their threads."""
    cohort_scope(user, cohort)

    def rows() -> list[dict[str, Any]]:
        out = []
        for member in services.accounts.list_users(role="student", cohort=cohort):
            if member["student_id"] is None:
                continue
            view = thread_service.learner_view(services, member["student_id"])
            out.append({"user_id": member["id"], "username": member["username"],
                        "student_id": member["student_id"], "pace": view["profile"]["pace"],
                        "mastery": view["mastery"], "skills": view["skills"],
                        "threads": services.accounts.threads(student_id=member["student_id"])})
        return out

    return await anyio.to_thread.run_sync(rows)

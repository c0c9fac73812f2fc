"""Teacher views: the students of a cohort with their mastery and threads (teachers: own cohort only)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path

from tutormesh.server import chat
from tutormesh.server.deps import ServicesDep, Staff, cohort_scope

router = APIRouter(prefix="/v1/cohorts", tags=["cohorts"])
Cohort = Annotated[str, Path(min_length=1, max_length=80)]


@router.get("/{cohort}/students", responses={
    401: {"description": "not signed in, or a bad, expired or revoked token"},
    403: {"description": "teachers and admins only"}, 404: {"description": "no such cohort, or not yours"},
    422: {"description": "malformed cohort"}})
async def cohort_students(cohort: Cohort, user: Staff, services: ServicesDep) -> list[dict[str, Any]]:
    """List the cohort's students: mastery per skill, pace, and their threads."""
    cohort_scope(user, cohort)

    def rows() -> list[dict[str, Any]]:
        out = []
        for member in services.accounts.list_users(role="student", cohort=cohort):
            if member["student_id"] is None:
                continue
            view = chat.learner_view(services, member["student_id"])
            out.append({"user_id": member["id"], "username": member["username"],
                        "student_id": member["student_id"], "pace": view["profile"]["pace"],
                        "mastery": view["mastery"], "skills": view["skills"],
                        "threads": services.accounts.threads(student_id=member["student_id"])})
        return out

    return await anyio.to_thread.run_sync(rows)

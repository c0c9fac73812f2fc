"""The audit log of staff access to students' data (admins only)."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query
from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema

from tutormesh.server.deps import Admin, ServicesDep
from tutormesh.server.staff import stores

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    """Who (username and role) did what to whose data, and when."""

    id: int
    at: str
    actor: str
    actor_role: str
    action: str
    student: str | None
    student_id: str | None
    target: str


@router.get("")
async def audit_log(_admin: Admin, services: ServicesDep,
                    student_id: Annotated[str | SkipJsonSchema[None], Query(max_length=64)] = None,
                    actor_id: Annotated[str | SkipJsonSchema[None], Query(max_length=32)] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[AuditEntryOut]:
    """Return the newest entries first, optionally for one student or one staff member."""
    rows = await anyio.to_thread.run_sync(
        lambda: stores(services).audit.entries(student_id=student_id, actor_id=actor_id, limit=limit))
    return [AuditEntryOut(**r) for r in rows]

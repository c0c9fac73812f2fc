"""Admin privacy endpoints: export a student's data, erase it from every store, record consent."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema
from starlette.responses import Response

from tutormesh.core import consent as consents
from tutormesh.core import privacy
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Invalid
from tutormesh.server.deps import Admin, ServicesDep

router = APIRouter(prefix="/admin/students", tags=["privacy"])
Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}$", description="the student's username")]


@router.get("/{username}/export", response_class=Response, responses={
    200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
          "description": "a zip archive with `student.json`"}, 404: {"description": "no such student"}})
async def export(username: Username, admin: Admin, services: ServicesDep) -> Response:
    """Download everything held about a student as one zip archive (`student.json` inside)."""

    def build() -> bytes:
        data = privacy.export_student(username, services.settings)
        buffer = io.BytesIO()
        privacy.write_archive(data, buffer)
        privacy.audit(sessionmaker_for(services.settings), "export", admin.id, {"bytes": buffer.tell()})
        return buffer.getvalue()

    body = await anyio.to_thread.run_sync(build)
    return Response(body, media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="student-export.zip"'})


class ErasureOut(BaseModel):
    """What was removed or de-identified per store, and what the scan of every store found afterwards."""

    reference: str
    removed: dict[str, int]
    deidentified: dict[str, int]
    not_scanned: list[str]
    findings: list[dict[str, str]]


@router.delete("/{username}", responses={404: {}})
async def erase(username: Username, admin: Admin, services: ServicesDep) -> ErasureOut:
    """Erase a student from every store (cannot be undone); the report lists any trace the scan found."""
    found = await anyio.to_thread.run_sync(privacy.find_subject, services.learner.sessions, username)
    report = await anyio.to_thread.run_sync(lambda: privacy.erase_student(username, services.settings,
                                                                          actor=admin.id))
    if found.user_id:
        services.access.forget_user(found.user_id)
    services.lifecycle.live.pop(found.student_id, None)
    return ErasureOut(**report.as_dict())


class ConsentIn(BaseModel):
    """A date-of-birth band and/or a guardian's consent (given or withdrawn)."""

    # At least one of the two; null is not offered (it means "not given", as leaving it out does).
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    dob_band: Literal["under13", "13-15", "16-17", "adult"] | SkipJsonSchema[None] = None
    guardian_consent: bool | SkipJsonSchema[None] = None


class ConsentOut(BaseModel):
    """The student's consent state; `restricted`: no free text stored, no LLM called."""

    dob_band: str | None
    guardian_consent: bool
    restricted: bool


@router.put("/{username}/consent", responses={404: {}})
async def consent(username: Username, body: ConsentIn, admin: Admin, services: ServicesDep) -> ConsentOut:
    """Record a student's date-of-birth band and whether a parent or guardian consented."""
    if body.dob_band is None and body.guardian_consent is None:
        raise Invalid("give dob_band and/or guardian_consent")
    given: dict[str, Any] = {"dob_band": body.dob_band, "guardian_consent": None if body.guardian_consent is None
                             else ("yes" if body.guardian_consent else "no")}
    state = await anyio.to_thread.run_sync(lambda: consents.set_consent(username, settings=services.settings,
                                                                       actor=admin.id, **given))
    return ConsentOut(**state)

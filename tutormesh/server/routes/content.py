"""Content upload, review and publishing: a deck becomes a draft, a reviewed draft reaches students.

Teachers and admins only. A teacher sees and acts on the jobs they uploaded (anyone else's is a
404) and gives assignments to their own cohort; an admin sees every job. See docs/content.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, File, Form, Path, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse

from tutormesh.content import jobs, publish, review
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Conflict, NotFound, PayloadTooLarge
from tutormesh.server.deps import Principal, ServicesDep
from tutormesh.server.fields import Cohort
from tutormesh.server.sse import event_stream
from tutormesh.server.staff import Teaching, check_cohort, scope_of
from tutormesh.tools.curriculum.models import SLUG
from tutormesh.tools.ingest.draft import Draft

router = APIRouter(prefix="/content", tags=["content"])
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
T = TypeVar("T")
UPLOAD_PATH = "/v1/content/uploads"


class JobOut(BaseModel):
    """An ingest job: its file, status and build progress (0..1), and what is published of it."""

    id: str
    sha256: str
    file_name: str
    size: int
    subject: str
    cohort: str | None
    created_by: str
    created_at: str | None
    updated_at: str | None
    status: str = Field(description="queued | building | ready | failed")
    stage: str
    progress: float
    error: str | None
    slides: int
    dropped_topics: list[str]
    versions: list[VersionOut] = Field(default_factory=list, description="published versions, newest first")
    review_url: str


class VersionOut(BaseModel):
    """A published (or since unpublished) version of a job's content: who, when, what."""

    id: int
    job_id: str
    subject: str
    status: str = Field(description="published | unpublished")
    topics: list[str]
    quiz_id: str | None = Field(description="the assignment's quiz, when a class was named")
    assignment_id: int | None
    cohort: str | None
    published_by: str
    published_at: str | None
    unpublished_by: str | None
    unpublished_at: str | None
    indexed: int | None = Field(default=None, description="passages added to the vector index")
    unindexed: int | None = Field(default=None, description="passages deleted from the vector index")


class DraftOut(BaseModel):
    """The draft beside its deck: `draft.deck.slides` hold the source, `draft.topics` what it became."""

    job: JobOut
    draft: dict[str, Any]
    samples: dict[str, dict[str, str]] = Field(description="each item rendered once (seed 0), by template id")
    dropped_topics: list[str]
    edits: list[dict[str, Any]]


class EditedItem(BaseModel):
    """The item (template) as it now stands in the draft, and one rendering of it."""

    item: dict[str, Any]
    sample: dict[str, str]


class DroppedTopics(BaseModel):
    """The topics now left out of what would be published."""

    dropped_topics: list[str]


class TopicChange(BaseModel):
    """Drop a topic from what would be published, or keep it again."""

    model_config = ConfigDict(extra="forbid")
    dropped: bool


class PublishIn(BaseModel):
    """Publish the draft; `cohort` (default: the upload's) is the class that gets its assignment."""

    model_config = ConfigDict(extra="forbid")
    cohort: Cohort | None = None


async def _run(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)


def _out(services: ServicesDep, job: dict[str, Any]) -> JobOut:
    versions = jobs.store_of(services.settings).versions(job["id"])
    return JobOut(**job, versions=[VersionOut(**v) for v in versions], review_url=f"/console/content#job={job['id']}")


def _own(services: ServicesDep, user: Principal, job_id: str) -> dict[str, Any]:
    job = jobs.store_of(services.settings).job(job_id)
    if user.role != "admin" and job["created_by"] != user.id:
        raise NotFound("content job not found")
    return job


def _cohort(services: ServicesDep, user: Principal, cohort: str | None) -> str | None:
    if cohort is not None:
        check_cohort(scope_of(services, user), cohort)
    return cohort


@router.post("/uploads", status_code=201, responses={
    200: {"description": "this file was uploaded before: its job", "model": JobOut},
    413: {"description": "deck over the limit"}, 422: {"description": "a deck the parser refuses, and why"}})
async def upload(user: Teaching, services: ServicesDep, response: Response, file: Annotated[UploadFile, File()],
                 subject: Annotated[str, Form(max_length=40, pattern=SLUG,
                                              description="a subject slug such as 'math' (a new one makes a subject)")],
                 cohort: Annotated[Cohort | None, Form()] = None) -> JobOut:
    """Upload a deck (PDF, PPTX, Markdown or DOCX) for a subject; its draft is built in the background."""
    limit = services.settings.ingest_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"deck over {limit} bytes")
    target = _cohort(services, user, cohort)
    job, started = await _run(lambda: jobs.submit(services.settings, data=data, file_name=file.filename or "deck",
                                                  subject=subject, cohort=target, by=user.id))
    response.status_code = 201 if started else 200
    return await _run(lambda: _out(services, job))


@router.get("/jobs")
async def list_jobs(user: Teaching, services: ServicesDep) -> list[JobOut]:
    """Your uploads, newest first (admins: everyone's)."""
    store = jobs.store_of(services.settings)
    return await _run(lambda: [_out(services, j) for j in store.jobs(None if user.role == "admin" else user.id)])


@router.get("/jobs/{job_id}", responses={404: {}})
async def get_job(job_id: JobId, user: Teaching, services: ServicesDep) -> JobOut:
    """A job's status and build progress."""
    return await _run(lambda: _out(services, _own(services, user, job_id)))


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse, responses={
    404: {}, 200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def job_events(job_id: JobId, user: Teaching, services: ServicesDep) -> EventSourceResponse:
    """Build progress as server-sent events (`progress`, then `done`), until the job is ready or failed."""
    await _run(lambda: _own(services, user, job_id))
    store = jobs.store_of(services.settings)

    async def events() -> AsyncIterator[dict[str, Any]]:
        last: tuple[str, float] | None = None
        for _ in range(3600):  # an hour at most
            job = await _run(lambda: store.job(job_id))
            if (job["stage"], job["progress"]) != last:
                last = (job["stage"], job["progress"])
                yield {"event": "progress", "status": job["status"], "stage": job["stage"],
                       "progress": job["progress"]}
            if job["status"] in ("ready", "failed"):
                yield {"event": "done", "status": job["status"], "error": job["error"]}
                return
            await asyncio.sleep(1.0)

    return event_stream(events())


@router.get("/jobs/{job_id}/draft", responses={404: {}, 409: {"description": "not built yet"}})
async def get_draft(job_id: JobId, user: Teaching, services: ServicesDep) -> DraftOut:
    """The draft beside its source slides, one rendered sample per item, drops and the edit log."""
    def run() -> DraftOut:
        job = _own(services, user, job_id)
        docs = jobs.store_of(services.settings).documents(job_id)
        if docs["draft"] is None:
            raise Conflict(f"the draft is not built yet (status {job['status']})")
        draft = Draft.model_validate(docs["draft"])
        return DraftOut(job=_out(services, job), draft=docs["draft"], samples=review.samples(draft),
                        dropped_topics=docs["dropped_topics"], edits=docs["edits"])

    return await _run(run)


def _in_db(services: ServicesDep, work: Callable[[Session], T]) -> Callable[[], T]:
    def run() -> T:
        with sessionmaker_for(services.settings).begin() as session:
            return work(session)

    return run


@router.patch("/jobs/{job_id}/items/{template_id}", responses={404: {}, 409: {}, 422: {
    "description": "the edited item does not verify with the grader (the draft is unchanged)"}})
async def edit_item(job_id: JobId, template_id: Annotated[str, Path(max_length=200)], body: review.ItemEdit,
                    user: Teaching, services: ServicesDep) -> EditedItem:
    """Edit an item's prompt or answer key; it is re-verified with the grader before it is kept."""
    await _run(lambda: _own(services, user, job_id))
    return EditedItem(**await _run(_in_db(services, lambda s: review.edit_item(s, job_id, template_id, body,
                                                                                 by=user.id))))


@router.patch("/jobs/{job_id}/topics/{slug}", responses={404: {}, 409: {}})
async def change_topic(job_id: JobId, slug: Annotated[str, Path(max_length=80)], body: TopicChange,
                       user: Teaching, services: ServicesDep) -> DroppedTopics:
    """Drop a topic (lesson and its items) from the draft, or keep it again."""
    await _run(lambda: _own(services, user, job_id))
    dropped = await _run(_in_db(services, lambda s: review.set_dropped(s, job_id, slug, body.dropped, by=user.id)))
    return DroppedTopics(dropped_topics=dropped)


@router.post("/jobs/{job_id}/publish", status_code=201, responses={404: {}, 409: {}, 422: {}})
async def publish_job(job_id: JobId, user: Teaching, services: ServicesDep,
                      body: PublishIn | None = None) -> VersionOut:
    """Publish the reviewed draft: topics join the curriculum and the index, the class gets the assignment."""
    job = await _run(lambda: _own(services, user, job_id))
    cohort = _cohort(services, user, (body.cohort if body else None) or job["cohort"])
    return VersionOut(**await _run(lambda: publish.publish(services.settings, job_id, by=user.id, cohort=cohort)))


@router.post("/jobs/{job_id}/unpublish", responses={404: {}, 409: {"description": "nothing is published"}})
async def unpublish_job(job_id: JobId, user: Teaching, services: ServicesDep) -> VersionOut:
    """Take the job's content away from students (its assignment closes; mastery rows stay)."""
    await _run(lambda: _own(services, user, job_id))
    return VersionOut(**await _run(lambda: publish.unpublish(services.settings, job_id, by=user.id)))

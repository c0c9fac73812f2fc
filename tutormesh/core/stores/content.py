"""Ingest jobs and published content versions in the directory database (content is not student data).

A job is created once per (file sha256, subject, uploader): uploading the same file again returns
the same job and its draft, reviewer edits included. The builder claims a job with a conditional
update, so a task delivered twice builds once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.errors import NotFound
from tutormesh.core.models import ContentVersion, IngestJob, utcnow

JOB_STATES = ("queued", "building", "ready", "failed")


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()


def job_view(row: IngestJob) -> dict[str, Any]:
    """A job as the API shows it (the deck and draft are read separately: they can be large)."""
    return {"id": row.id, "sha256": row.sha256, "file_name": row.file_name, "size": row.size,
            "subject": row.subject, "cohort": row.cohort, "created_by": row.created_by,
            "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at), "status": row.status,
            "stage": row.stage, "progress": round(float(row.progress), 3), "error": row.error,
            "slides": len((row.deck or {}).get("slides", [])), "dropped_topics": list(row.dropped_topics or [])}


def version_view(row: ContentVersion) -> dict[str, Any]:
    """A published version: who, when, what."""
    return {"id": row.id, "job_id": row.job_id, "subject": row.subject, "status": row.status,
            "topics": [t["slug"] for t in row.topics], "quiz_id": row.quiz_id, "assignment_id": row.assignment_id,
            "cohort": row.cohort, "published_by": row.published_by, "published_at": _iso(row.published_at),
            "unpublished_by": row.unpublished_by, "unpublished_at": _iso(row.unpublished_at)}


class ContentStore:
    """Read and write ingest jobs and content versions over one database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Use the given session factory (the directory database's)."""
        self.sessions = sessions

    def open_job(self, *, sha256: str, file_name: str, size: int, subject: str, cohort: str | None,
                 created_by: str, deck: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Return the job of this file, subject and uploader, creating it; and whether it is new.

        An existing job keeps its draft and edits; a new target cohort replaces the old one.
        """
        key = (IngestJob.sha256 == sha256, IngestJob.subject == subject, IngestJob.created_by == created_by)
        with self.sessions.begin() as s:
            found = s.scalar(select(IngestJob).where(*key))
            if found is not None:
                if cohort is not None:
                    found.cohort = cohort
                return job_view(found), False
        try:
            with self.sessions.begin() as s:
                row = IngestJob(id=uuid.uuid4().hex, sha256=sha256, file_name=file_name[:200], size=size,
                                subject=subject, cohort=cohort, created_by=created_by, deck=deck, status="queued",
                                stage="queued", progress=0.0, dropped_topics=[], edits=[], dispatches=0)
                s.add(row)
                s.flush()
                return job_view(row), True
        except IntegrityError:  # the same upload raced us: theirs is the job
            with self.sessions() as s:
                return job_view(s.scalars(select(IngestJob).where(*key)).one()), False

    def job(self, job_id: str) -> dict[str, Any]:
        """Return a job's view, or raise NotFound."""
        with self.sessions() as s:
            row = s.get(IngestJob, job_id)
            if row is None:
                raise NotFound("content job not found")
            return job_view(row)

    def jobs(self, created_by: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Return jobs, newest first: one uploader's, or everyone's."""
        query = select(IngestJob).order_by(IngestJob.created_at.desc()).limit(limit)
        if created_by is not None:
            query = query.where(IngestJob.created_by == created_by)
        with self.sessions() as s:
            return [job_view(r) for r in s.scalars(query)]

    def documents(self, job_id: str) -> dict[str, Any]:
        """Return a job's deck, draft (None until built), dropped topics and edit log."""
        with self.sessions() as s:
            row = s.get(IngestJob, job_id)
            if row is None:
                raise NotFound("content job not found")
            return {"deck": row.deck, "draft": row.draft, "dropped_topics": list(row.dropped_topics or []),
                    "edits": list(row.edits or [])}

    def mark_dispatched(self, job_id: str) -> None:
        """Count one more task sent for a job."""
        with self.sessions.begin() as s:
            s.execute(update(IngestJob).where(IngestJob.id == job_id)
                      .values(dispatches=IngestJob.dispatches + 1))

    def requeue(self, job_id: str) -> bool:
        """Put a failed job back in the queue (the same file uploaded again after a failure)."""
        with self.sessions.begin() as s:
            done = s.execute(update(IngestJob).where(IngestJob.id == job_id, IngestJob.status == "failed")
                             .values(status="queued", stage="queued", progress=0.0, error=None, updated_at=utcnow()))
            return bool(getattr(done, "rowcount", 0))

    def requeue_stale(self, older_than_s: float) -> list[str]:
        """Queue again the jobs queued or building with no progress for `older_than_s`; return their ids.

        A worker that died mid-build, or a task the embedded broker lost, leaves such a job behind.
        """
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        stale = (IngestJob.status.in_(("queued", "building")), IngestJob.updated_at < cutoff)
        with self.sessions.begin() as s:
            ids = list(s.scalars(select(IngestJob.id).where(*stale).limit(100)))
            for job_id in ids:
                s.execute(update(IngestJob).where(IngestJob.id == job_id, *stale)
                          .values(status="queued", stage="queued again", updated_at=utcnow(),
                                  dispatches=IngestJob.dispatches + 1))
            return ids

    def claim(self, job_id: str) -> dict[str, Any] | None:
        """Start building a queued job; return its deck, or None when it is missing or not queued."""
        with self.sessions.begin() as s:
            done = s.execute(update(IngestJob).where(IngestJob.id == job_id, IngestJob.status == "queued")
                             .values(status="building", stage="building the draft", progress=0.02,
                                     updated_at=utcnow()))
            if not getattr(done, "rowcount", 0):
                return None
            deck: dict[str, Any] = s.get_one(IngestJob, job_id).deck
            return deck

    def release(self, job_id: str) -> None:
        """Put a job being built back in the queue (the build hit a lost database and will be retried)."""
        with self.sessions.begin() as s:
            s.execute(update(IngestJob).where(IngestJob.id == job_id, IngestJob.status == "building")
                      .values(status="queued", stage="queued again", updated_at=utcnow()))

    def report(self, job_id: str, fraction: float, stage: str) -> None:
        """Record build progress (0..1) and what is being done."""
        with self.sessions.begin() as s:
            s.execute(update(IngestJob).where(IngestJob.id == job_id, IngestJob.status == "building")
                      .values(progress=min(max(fraction, 0.0), 0.99), stage=stage[:200], updated_at=utcnow()))

    def finish(self, job_id: str, draft: dict[str, Any], edits: list[dict[str, Any]] | None = None) -> None:
        """Store the built draft (and what the builder changed, for the edit log); ready for review."""
        with self.sessions.begin() as s:
            s.execute(update(IngestJob).where(IngestJob.id == job_id)
                      .values(status="ready", stage="ready for review", progress=1.0, draft=draft, error=None,
                              edits=list(edits or []), updated_at=utcnow()))

    def fail(self, job_id: str, reason: str) -> None:
        """End a build with a reason shown to the uploader."""
        with self.sessions.begin() as s:
            s.execute(update(IngestJob).where(IngestJob.id == job_id)
                      .values(status="failed", stage="failed", error=reason[:2000], updated_at=utcnow()))

    def versions(self, job_id: str | None = None, *, published_only: bool = False) -> list[dict[str, Any]]:
        """Return content versions (of one job, or all), newest first."""
        query = select(ContentVersion).order_by(ContentVersion.id.desc())
        if job_id is not None:
            query = query.where(ContentVersion.job_id == job_id)
        if published_only:
            query = query.where(ContentVersion.status == "published")
        with self.sessions() as s:
            return [version_view(r) for r in s.scalars(query)]

    def published_documents(self) -> list[tuple[str, str, list[dict[str, Any]], list[dict[str, Any]]]]:
        """Return (job id, subject, topic documents, passages) of everything published, oldest first."""
        with self.sessions() as s:
            return [(r.job_id, r.subject, list(r.topics), list(r.passages or [])) for r in s.scalars(
                select(ContentVersion).where(ContentVersion.status == "published").order_by(ContentVersion.id))]

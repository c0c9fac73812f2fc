"""Content rows: ingest jobs (one uploaded deck and its draft under review) and published versions.

Content is not student data: these tables live in the directory (main) database, never on shards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow


class IngestJob(Base):
    """One deck uploaded by one staff member for one subject: its parse, its build progress, its draft.

    Keyed by the file's sha256 with the subject and the uploader, so the same file uploaded twice
    returns the same job (and its draft, with the reviewer's edits kept).
    """

    __tablename__ = "content_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(40))
    cohort: Mapped[str | None] = mapped_column(String(80), nullable=True)  # the class that gets the assignment
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | building | ready | failed
    stage: Mapped[str] = mapped_column(String(200), default="queued")  # what the builder is doing, for people
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    deck: Mapped[dict[str, Any]] = mapped_column(JSON)  # the parsed Deck (tools/ingest/draft.py)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the Draft, with reviewer edits
    dropped_topics: Mapped[list[Any]] = mapped_column(JSON, default=list)  # topic slugs the reviewer dropped
    edits: Mapped[list[Any]] = mapped_column(JSON, default=list)  # who changed what, oldest first
    dispatches: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("sha256", "subject", "created_by", name="uq_content_jobs_file"),
                      Index("ix_content_jobs_created_by", "created_by"))


class ContentVersion(Base):
    """What one publish put in front of students: who, when, which topics, and the assignment given."""

    __tablename__ = "content_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("content_jobs.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(40))
    topics: Mapped[list[Any]] = mapped_column(JSON)  # the published Topic documents (the overlay's source)
    # What was added to the vector index ({id, topic, kind, text, meta}): deleted on unpublish, and
    # re-embedded when the shipped curriculum's index is rebuilt.
    passages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    quiz_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    assignment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cohort: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="published")  # published | unpublished
    published_by: Mapped[str] = mapped_column(String(32))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    unpublished_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    unpublished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (Index("ix_content_versions_status", "status"),)

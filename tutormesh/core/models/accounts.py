"""Account rows: users who sign in (students, teachers, admins) and agent lifecycle events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow

ROLES = ("student", "teacher", "admin")
DOB_BANDS = ("under13", "13-15", "16-17", "adult")


class User(Base):
    """A person who signs in; a student user is linked to exactly one `students` row."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    cohort: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    student_id: Mapped[str | None] = mapped_column(
        ForeignKey("students.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Age band, not a birth date (data minimisation): one of DOB_BANDS, or None when unknown.
    dob_band: Mapped[str | None] = mapped_column(String(12), nullable=True)
    # When a parent or guardian's consent was recorded (COPPA: needed under 13); None: not recorded.
    guardian_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LifecycleEvent(Base):
    """One step in a student agent's life: spawned (login), paused (idle), resumed (next message)."""

    __tablename__ = "lifecycle_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    thread_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_lifecycle_events_student", "student_id", "id"),)

"""Account rows: users who sign in, failed sign-ins, agent lifecycle events and stored turn results."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow

ROLES = ("student", "teacher", "tutor", "admin")  # a tutor serves escalations of many cohorts
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
    # Carried in every token; bumped on password or role change, so older tokens stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Age band, not a birth date (data minimisation): one of DOB_BANDS, or None when unknown.
    dob_band: Mapped[str | None] = mapped_column(String(12), nullable=True)
    # When a parent or guardian's consent was recorded (COPPA: needed under 13); None: not recorded.
    guardian_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginFailure(Base):
    """Failed sign-ins of one username (known or not) in the current window, and any lockout.

    Keyed by a hash of the username typed: people type passwords into the username field.
    """

    __tablename__ = "login_failures"
    username_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TurnRecord(Base):
    """The stored result of a turn sent with an `Idempotency-Key`, so a retry returns it again."""

    __tablename__ = "turn_records"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: the turn is still running
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class LifecycleEvent(Base):
    """One step in a student agent's life: spawned (login), paused (idle), resumed (next message)."""

    __tablename__ = "lifecycle_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    thread_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_lifecycle_events_student", "student_id", "id"),)

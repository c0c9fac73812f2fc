"""Staff rows: human tutors' names and cohorts, and the audit log of staff reading student data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow


class StaffProfile(Base):
    """How a teacher, tutor or admin is named to students, and the cohorts a tutor serves."""

    __tablename__ = "staff_profiles"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80))
    # Tutors only: the cohorts of the pool they serve (teachers serve their own `users.cohort`).
    cohorts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """One staff access to a student's data: who, what, when (never the data itself)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor_id: Mapped[str] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))  # e.g. read_thread, read_student, reply_escalation
    student_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target: Mapped[str] = mapped_column(String(120), default="")  # thread id, escalation id, quiz id...
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_audit_log_created", "created_at"), Index("ix_audit_log_student", "student_id"))

"""Session reflections: what worked in a student's session, what did not, and what changes next time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow


class ReflectionRow(Base):
    """One session's reflection, computed from its engagement rows (agents/reflection.py decides).

    The session is the student's engagement after the previous reflection: `last_engagement_id`
    is its high-water mark, unique per student, so a goodbye and an idle sweep racing on the same
    session store one reflection.
    """

    __tablename__ = "reflections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    thread_id: Mapped[str] = mapped_column(String(64))  # where the session ended
    trigger: Mapped[str] = mapped_column(String(20))  # goodbye | idle
    language: Mapped[str] = mapped_column(String(10))  # what `summary` is written in
    first_engagement_id: Mapped[int] = mapped_column(Integer)
    last_engagement_id: Mapped[int] = mapped_column(Integer)
    last_attempt_id: Mapped[int] = mapped_column(Integer)
    answers: Mapped[int] = mapped_column(Integer)  # graded answers in the session
    right: Mapped[int] = mapped_column(Integer)
    worked: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"code", ...facts}]
    struggled: Mapped[list[Any]] = mapped_column(JSON, default=list)
    next_steps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # first_content, review_skills
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    applied_thread_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    __table_args__ = (Index("ux_reflections_student_session", "student_id", "last_engagement_id", unique=True),)

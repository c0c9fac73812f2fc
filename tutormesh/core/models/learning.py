"""Learning rows: the learner model, curriculum, negotiations, escalations and chat history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow

# No evidence yet: every content type at the Beta(1, 1) mean (core imports no tools, so it is spelled here).
DEFAULT_STYLE = {"text": 0.5, "visual": 0.5, "worked_example": 0.5, "recap": 0.5}


class Subject(Base):
    __tablename__ = "subjects"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    semester_weeks: Mapped[int] = mapped_column(Integer)


class Skill(Base):
    """One curriculum topic and the knowledge-tracing parameters of its skill."""

    __tablename__ = "skills"
    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    subject: Mapped[str] = mapped_column(ForeignKey("subjects.slug"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    week: Mapped[int] = mapped_column(Integer)
    p_init: Mapped[float] = mapped_column(Float)
    p_learn: Mapped[float] = mapped_column(Float)
    p_slip: Mapped[float] = mapped_column(Float)
    p_guess: Mapped[float] = mapped_column(Float)


class ItemTemplateRow(Base):
    """A parameterised practice item (the seed command copies the curriculum files here)."""

    __tablename__ = "items"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    skill: Mapped[str] = mapped_column(ForeignKey("skills.slug"), index=True)
    difficulty: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    grade_level: Mapped[str] = mapped_column(String(20), default="9")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Profile(Base):
    """Learning profile: what the student agent adapts to and negotiates for."""

    __tablename__ = "profiles"
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    pace: Mapped[str] = mapped_column(String(20), default="moderate")
    # Weights over tools/learner_model.py CONTENT_TYPES; style_counts keeps the evidence behind them.
    learning_style: Mapped[dict[str, Any]] = mapped_column(JSON, default=lambda: dict(DEFAULT_STYLE))
    style_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(10), default="en")
    cultural_context: Mapped[str] = mapped_column(String(80), default="")
    strengths: Mapped[list[Any]] = mapped_column(JSON, default=list)
    weaknesses: Mapped[list[Any]] = mapped_column(JSON, default=list)
    goals: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # A content type the student chose in their settings; it beats the learned weights (agents/adaptation.py).
    style_override: Mapped[str | None] = mapped_column(String(20), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Mastery(Base):
    """Knowledge-tracing estimate per student and skill, updated online after every attempt."""

    __tablename__ = "mastery"
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(ForeignKey("skills.slug"), primary_key=True)
    p_known: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    streak: Mapped[int] = mapped_column(Integer, default=0)
    fail_streak: Mapped[int] = mapped_column(Integer, default=0)
    time_on_task_s: Mapped[float] = mapped_column(Float, default=0.0)
    hints_used: Mapped[int] = mapped_column(Integer, default=0)
    misconception_hits: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Attempt(Base):
    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    thread_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(160))
    skill: Mapped[str] = mapped_column(String(80))
    difficulty: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(Text)
    p_known_before: Mapped[float] = mapped_column(Float)
    p_known_after: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_attempts_student_skill", "student_id", "skill"),)


class Grade(Base):
    """The grader's verdict on one attempt (deterministic graders: confidence 1.0)."""

    __tablename__ = "grades"
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True)
    correct: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(40))
    feedback: Mapped[str] = mapped_column(Text)
    grader: Mapped[str] = mapped_column(String(40))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)


class CurriculumPlan(Base):
    """A student's delivery plan in one subject: what the SME agent commits to."""

    __tablename__ = "curriculum_plans"
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[str] = mapped_column(ForeignKey("subjects.slug"), primary_key=True)
    start_date: Mapped[date] = mapped_column(Date)
    pace: Mapped[str] = mapped_column(String(20), default="moderate")
    adjustments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    difficulty_ramp: Mapped[bool] = mapped_column(Boolean, default=False)
    slow_topics_left: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Negotiation(Base):
    __tablename__ = "negotiations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(40))
    skill: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    # open -> committed -> kept | renegotiated ; open -> escalated
    status: Mapped[str] = mapped_column(String(20), default="open")
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    baseline_mastery: Mapped[float | None] = mapped_column(Float, nullable=True)
    review_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NegotiationMessageRow(Base):
    __tablename__ = "negotiation_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    negotiation_id: Mapped[str] = mapped_column(ForeignKey("negotiations.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Escalation(Base):
    """A request for a human tutor, opened by the admin agent."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    negotiation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open -> claimed -> resolved
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)  # a user id
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")


class LearningSession(Base):
    """One conversation thread and its agent's lifecycle."""

    __tablename__ = "learning_sessions"
    thread_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    turns: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ThreadMessage(Base):
    """Full chat history; graph state keeps only a window of it so checkpoints stay bounded."""

    __tablename__ = "thread_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(12))  # user | assistant | tutor (a human)
    content: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(80), nullable=True)  # a human tutor's display name
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Engagement(Base):
    """One graded answer's engagement signals (tier 1): what was shown before it, time, hints, retries."""

    __tablename__ = "engagement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    thread_id: Mapped[str] = mapped_column(String(64))
    skill: Mapped[str] = mapped_column(String(80))
    item_id: Mapped[str] = mapped_column(String(160))
    difficulty: Mapped[int] = mapped_column(Integer)
    shown_before: Mapped[list[Any]] = mapped_column(JSON, default=list)  # content types since the last answer
    correct: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(40))  # the grader's: "misconception" counts toward weaknesses
    seconds: Mapped[float] = mapped_column(Float)  # time on task, capped at the idle limit
    idle_s: Mapped[float] = mapped_column(Float, default=0.0)  # the rest of the gap
    hints_used: Mapped[int] = mapped_column(Integer, default=0)
    retry: Mapped[bool] = mapped_column(Boolean, default=False)
    streak: Mapped[int] = mapped_column(Integer, default=0)  # right answers in a row after this one
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_engagement_student_id", "student_id", "id"),)


class AdaptationRow(Base):
    """A change the agent made to a learner model, with the reason a student and teacher can read."""

    __tablename__ = "adaptations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # learning_style | pace | strengths | weaknesses
    before: Mapped[Any] = mapped_column(JSON)
    after: Mapped[Any] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_adaptations_student_id", "student_id", "id"),)

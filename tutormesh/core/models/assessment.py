"""Assessment rows: quizzes, assignments, submissions, graded results, review flags and the event outbox.

Exactly-once grading rests on keys, not on the broker: one `submission_results` row per submission,
one `question_results` row per (submission, question), one outbox row per event `key`, one
`event_receipts` row per (event, consumer). A redelivered task finds its row and stops.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow


class Quiz(Base):
    """A quiz a teacher wrote; its questions are `QuizQuestion` rows."""

    __tablename__ = "quizzes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QuizQuestion(Base):
    """One question: `kind` picks the grader; `spec` holds its answer, choices, rubric or tests."""

    __tablename__ = "quiz_questions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # choice | symbolic | open | code
    prompt: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(80), nullable=True)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)


class QuizAssignment(Base):
    """A quiz given to a whole cohort or to one student."""

    __tablename__ = "quiz_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    cohort: Mapped[str | None] = mapped_column(String(80), nullable=True)
    student_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assigned_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Submission(Base):
    """A student's answers to a quiz; stored before any task is sent, so a lost message is re-sent."""

    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    cohort: Mapped[str | None] = mapped_column(String(80), nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | graded | errored
    # Why grading gave up (errored): shown to staff; never the answer text.
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dispatched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dispatches: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (
        UniqueConstraint("quiz_id", "student_id", name="uq_submissions_quiz_student"),
        Index("ix_submissions_status_dispatched", "status", "dispatched_at"),
    )


class SubmissionResult(Base):
    """The graded total of one submission: at most one row, whatever the broker redelivers."""

    __tablename__ = "submission_results"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(32), index=True)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(120), default="")
    grading_ms: Mapped[float] = mapped_column(Float, default=0.0)
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QuestionResult(Base):
    """The verdict on one answer, with the grader's confidence and the feedback shown to the student."""

    __tablename__ = "question_results"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("quiz_questions.id", ondelete="CASCADE"), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    grader: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    feedback: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_question_results_quiz_question", "quiz_id", "question_id"),)


class ReviewFlag(Base):
    """An answer the graders were not sure about, waiting for a human, with the reason why."""

    __tablename__ = "review_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    quiz_id: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    override_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    __table_args__ = (UniqueConstraint("submission_id", "question_id", name="uq_review_flags_answer"),)


class Explanation(Base):
    """The SME agent's in-depth explanation of a question most of a cohort got wrong (the 60% rule)."""

    __tablename__ = "explanations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    quiz_id: Mapped[str] = mapped_column(String(32), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    cohort: Mapped[str] = mapped_column(String(80), default="")
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # curriculum | llm
    wrong_share: Mapped[float] = mapped_column(Float)
    answers: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("question_id", "cohort", name="uq_explanations_question_cohort"),)


class AssessmentEvent(Base):
    """The outbox: written in the grading transaction, delivered to the agents afterwards."""

    __tablename__ = "assessment_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # quiz_complete | explanation_ready
    quiz_id: Mapped[str] = mapped_column(String(32))
    student_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)


class EventReceipt(Base):
    """The inbox: a consumer applies an event and writes its receipt in one transaction."""

    __tablename__ = "event_receipts"
    event_id: Mapped[int] = mapped_column(ForeignKey("assessment_events.id", ondelete="CASCADE"), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(40), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""Grade a submission exactly once, whatever the broker delivers: the body of the Celery task.

The result rows, the review flags and the "quiz complete" outbox event are written in ONE
transaction, keyed by submission id. A redelivered or duplicated task finds the result and stops;
two workers racing on one submission collide on the primary key and the loser stops. Only then is
the message acknowledged (acks_late), so a crash at any point either leaves nothing (re-graded on
redelivery) or everything (skipped on redelivery).

A failure that retrying cannot fix (anything but a lost or busy database) ends the submission as
`errored`, with the reason in `submissions.error` and an open review flag for staff: it is never
re-sent. So does a submission dispatched `max_dispatches` times without a result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.agents.assessment import QuestionGrade, grade_question
from tutormesh.core.models.assessment import (
    AssessmentEvent,
    QuestionResult,
    QuizQuestion,
    ReviewFlag,
    Submission,
    SubmissionResult,
)
from tutormesh.core.models.base import utcnow

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)  # retried by the task


def _reason(exc: BaseException) -> str:
    """A short, PII-free reason: the error class and the first line of its message (parameters are hidden)."""
    cause = getattr(exc, "orig", None) or exc  # a DBAPIError's own message comes first, then SQL
    text = str(cause).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:300]


def mark_errored(sessions: sessionmaker[Session], submission_id: str, reason: str) -> None:
    """Dead-letter a submission: status `errored` with the reason, and an open review flag for staff."""
    with sessions.begin() as s:
        sub = s.get(Submission, submission_id)
        if sub is None or sub.status == "graded":
            return
        sub.status, sub.error = "errored", reason
        if s.scalar(select(ReviewFlag.id).where(ReviewFlag.submission_id == submission_id,
                                                ReviewFlag.question_id == "")) is None:
            s.add(ReviewFlag(submission_id=submission_id, question_id="", quiz_id=sub.quiz_id,
                             reason=f"grading failed, not retried: {reason}"))
    log.error("submission %s errored: %s", submission_id, reason)


def _grade_all(questions: list[dict[str, Any]], answers: dict[str, str], min_confidence: float) -> list[QuestionGrade]:
    return [grade_question(q, str(answers.get(q["id"], "")), min_confidence=min_confidence) for q in questions]


def grade_submission(sessions: sessionmaker[Session], submission_id: str, *, worker: str = "",
                     min_confidence: float = 0.7) -> dict[str, Any]:
    """Grade every answer of a submission and store the results once; return what happened.

    Returns `{"status": "graded", "event_ids": [...]}`, or `{"status": "duplicate"}` when the
    submission was already graded or gave up, `{"status": "missing"}` when there is no such
    submission, or `{"status": "errored"}` when grading failed in a way retrying cannot fix.
    Transient database failures are raised, for the task to retry.
    """
    try:
        return _grade_and_store(sessions, submission_id, worker, min_confidence)
    except TRANSIENT:
        raise
    except Exception as exc:  # noqa: BLE001 - a poison submission: dead-letter it instead of looping
        mark_errored(sessions, submission_id, _reason(exc))
        return {"status": "errored"}


def _grade_and_store(sessions: sessionmaker[Session], submission_id: str, worker: str,
                     min_confidence: float) -> dict[str, Any]:
    started = time.perf_counter()
    with sessions() as s:
        sub = s.get(Submission, submission_id)
        if sub is None:
            return {"status": "missing"}
        if sub.status in ("graded", "errored") or s.get(SubmissionResult, submission_id) is not None:
            return {"status": "duplicate"}
        quiz_id, student_id, answers = sub.quiz_id, sub.student_id, dict(sub.answers)
        questions: list[dict[str, Any]] = [
            {"id": q.id, "kind": q.kind, "spec": q.spec, "points": q.points, "prompt": q.prompt, "topic": q.topic}
            for q in s.scalars(select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id)
                               .order_by(QuizQuestion.position))
        ]
    # Graders run outside any transaction: a sandbox run must not hold a database lock.
    grades = _grade_all(questions, answers, min_confidence)
    try:
        with sessions.begin() as s:
            if s.get(SubmissionResult, submission_id) is not None:
                return {"status": "duplicate"}
            for q, g in zip(questions, grades, strict=True):
                s.add(QuestionResult(submission_id=submission_id, question_id=q["id"], quiz_id=quiz_id,
                                     answer=str(answers.get(q["id"], "")), correct=g.correct, score=g.score,
                                     max_points=g.max_points, confidence=g.confidence, grader=g.grader,
                                     reason=g.reason[:40], feedback=g.feedback))
                if g.flag:
                    s.add(ReviewFlag(submission_id=submission_id, question_id=q["id"], quiz_id=quiz_id,
                                     reason=g.flag))
            score, max_score = sum(g.score for g in grades), sum(g.max_points for g in grades)
            s.add(SubmissionResult(submission_id=submission_id, quiz_id=quiz_id, score=score, max_score=max_score,
                                   flagged=sum(1 for g in grades if g.flag), worker=worker[:120],
                                   grading_ms=(time.perf_counter() - started) * 1000))
            s.execute(update(Submission).where(Submission.id == submission_id)
                      .values(status="graded"))
            event = AssessmentEvent(key=f"quiz_complete:{submission_id}", kind="quiz_complete", quiz_id=quiz_id,
                                    student_id=student_id, payload={
                                        "submission_id": submission_id, "score": score, "max_score": max_score,
                                        "results": [{"question_id": q["id"], "topic": q["topic"],
                                                     "correct": g.correct} for q, g in zip(questions, grades,
                                                                                           strict=True)]})
            s.add(event)
            s.flush()
            return {"status": "graded", "event_ids": [event.id], "score": score, "max_score": max_score}
    except IntegrityError:  # another worker stored this submission's result first
        return {"status": "duplicate"}


def claim_stale(sessions: sessionmaker[Session], *, older_than_s: float, now: datetime | None = None,
                limit: int = 500, max_dispatches: int = 10,
                settled: Callable[[str], bool] | None = None) -> list[str]:
    """Claim ungraded submissions last dispatched over `older_than_s` ago; the caller re-sends them.

    Each claim is a conditional update, so several sweepers never re-send the same submission twice
    in one window. Re-sending one that is merely waiting in the queue is harmless: it is skipped.
    One already sent `max_dispatches` times is dead-lettered instead (see `mark_errored`).
    `settled(student_id)` false: the student's shard is moving; their submissions wait for the next sweep.
    """
    keep = settled or (lambda _student: True)
    now = now or utcnow()
    cutoff = now - timedelta(seconds=older_than_s)
    claimed: list[str] = []
    with sessions() as s:
        exhausted = [sid for sid, student in s.execute(select(Submission.id, Submission.student_id).where(
            Submission.status == "queued", Submission.dispatched_at < cutoff,
            Submission.dispatches >= max_dispatches).limit(limit)) if keep(student)]
    for sid in exhausted:
        mark_errored(sessions, sid, f"no result after {max_dispatches} dispatches")
    with sessions.begin() as s:
        candidates = [sid for sid, student in s.execute(select(Submission.id, Submission.student_id).where(
            Submission.status == "queued", Submission.dispatched_at < cutoff).limit(limit)) if keep(student)]
        for sid in candidates:
            done = s.execute(update(Submission).where(Submission.id == sid, Submission.status == "queued",
                                                      Submission.dispatched_at < cutoff)
                             .values(dispatched_at=now, dispatches=Submission.dispatches + 1))
            if getattr(done, "rowcount", 0) == 1:
                claimed.append(sid)
    return claimed

"""The learner model in SQL: students, profiles, mastery, attempts, plans, negotiations, history.

One SQLAlchemy code path serves SQLite (embedded) and Postgres (production). Methods take and
return plain dicts so graph state and API responses can use them directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.models import (
    Attempt,
    CurriculumPlan,
    Escalation,
    Grade,
    LearningSession,
    Mastery,
    Negotiation,
    NegotiationMessageRow,
    Profile,
    Student,
    ThreadMessage,
)


def _profile_dict(row: Profile) -> dict[str, Any]:
    return {
        "pace": row.pace,
        "learning_style": dict(row.learning_style),
        "language": row.language,
        "cultural_context": row.cultural_context,
        "strengths": list(row.strengths),
        "weaknesses": list(row.weaknesses),
        "goals": list(row.goals),
    }


def _plan_dict(row: CurriculumPlan) -> dict[str, Any]:
    return {
        "subject": row.subject,
        "start_date": row.start_date.isoformat(),
        "pace": row.pace,
        "adjustments": list(row.adjustments),
        "difficulty_ramp": row.difficulty_ramp,
        "slow_topics_left": row.slow_topics_left,
    }


def _aware(ts: datetime | None) -> datetime | None:
    # SQLite drops tzinfo; every timestamp we write is UTC.
    return ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)


class LearnerStore:
    """Reads and writes one student's learner model; each method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Use the given session factory (one per database)."""
        self.sessions = sessions

    # -- students and profiles -------------------------------------------------------------
    def ensure_student(self, student_id: str, name: str | None = None) -> None:
        """Create the student and a default profile if missing (an agent spawns on first use)."""
        with self.sessions.begin() as s:
            if s.get(Student, student_id) is None:
                s.add(Student(id=student_id, name=name or student_id))
                s.flush()  # rows without relationship() are not ordered by foreign key
                s.add(Profile(student_id=student_id))

    def student_id_by_name(self, name: str) -> str | None:
        """Return the id of the student with this name, if any."""
        with self.sessions() as s:
            return s.scalar(select(Student.id).where(Student.name == name))

    def profile(self, student_id: str) -> dict[str, Any]:
        """Return the learning profile (raises LookupError for an unknown student)."""
        with self.sessions() as s:
            row = s.get(Profile, student_id)
            if row is None:
                raise LookupError(f"unknown student {student_id!r}")
            return _profile_dict(row)

    def update_profile(self, student_id: str, **fields: Any) -> None:
        """Change profile fields (pace, learning_style, language, ...)."""
        with self.sessions.begin() as s:
            row = s.get(Profile, student_id)
            if row is None:
                raise LookupError(f"unknown student {student_id!r}")
            for key, value in fields.items():
                setattr(row, key, value)

    # -- mastery and attempts --------------------------------------------------------------
    def mastery(self, student_id: str) -> dict[str, dict[str, Any]]:
        """Return every skill's tracing state for the student, keyed by skill."""
        with self.sessions() as s:
            rows = s.scalars(select(Mastery).where(Mastery.student_id == student_id))
            return {
                r.skill: {
                    "p_known": r.p_known,
                    "attempts": r.attempts,
                    "correct": r.correct,
                    "streak": r.streak,
                    "fail_streak": r.fail_streak,
                }
                for r in rows
            }

    def set_mastery(self, student_id: str, skill: str, p_known: float) -> None:
        """Overwrite a skill's estimate (placement tests, fixtures)."""
        with self.sessions.begin() as s:
            row = s.get(Mastery, (student_id, skill))
            if row is None:
                s.add(Mastery(student_id=student_id, skill=skill, p_known=p_known))
            else:
                row.p_known = p_known

    def record_attempt(
        self,
        *,
        student_id: str,
        thread_id: str,
        item: dict[str, Any],
        answer: str,
        grade: dict[str, Any],
        p_before: float,
        p_after: float,
        plan_update: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store an attempt, its grade and the new mastery in one transaction; return the mastery."""
        correct = bool(grade["correct"])
        with self.sessions.begin() as s:
            attempt = Attempt(
                student_id=student_id,
                thread_id=thread_id,
                item_id=item["id"],
                skill=item["skill"],
                difficulty=item["difficulty"],
                answer=answer,
                p_known_before=p_before,
                p_known_after=p_after,
            )
            s.add(attempt)
            s.flush()
            s.add(
                Grade(
                    attempt_id=attempt.id,
                    correct=correct,
                    reason=grade["reason"],
                    feedback=grade["feedback"],
                    grader="symbolic",
                )
            )
            row = s.get(Mastery, (student_id, item["skill"]))
            if row is None:
                row = Mastery(student_id=student_id, skill=item["skill"], p_known=p_after)
                row.attempts = row.correct = row.streak = row.fail_streak = 0
                s.add(row)
            row.p_known = p_after
            row.attempts += 1
            row.correct += int(correct)
            row.streak = row.streak + 1 if correct else 0
            row.fail_streak = 0 if correct else row.fail_streak + 1
            if plan_update:
                plan = s.get(CurriculumPlan, (student_id, plan_update.pop("subject")))
                for key, value in plan_update.items():
                    setattr(plan, key, value)
            return {
                "p_known": row.p_known,
                "attempts": row.attempts,
                "correct": row.correct,
                "streak": row.streak,
                "fail_streak": row.fail_streak,
            }

    def reset_fail_streak(self, student_id: str, skill: str) -> None:
        """Start counting failures afresh (after a negotiation changed the plan)."""
        with self.sessions.begin() as s:
            row = s.get(Mastery, (student_id, skill))
            if row is not None:
                row.fail_streak = 0

    # -- delivery plans ----------------------------------------------------------------------
    def plan(self, student_id: str, subject: str, *, today: date) -> dict[str, Any]:
        """Return the student's plan in a subject, starting one today if there is none."""
        with self.sessions.begin() as s:
            row = s.get(CurriculumPlan, (student_id, subject))
            if row is None:
                pace = s.scalar(select(Profile.pace).where(Profile.student_id == student_id)) or "moderate"
                row = CurriculumPlan(student_id=student_id, subject=subject, start_date=today, pace=pace)
                row.adjustments, row.difficulty_ramp, row.slow_topics_left = [], False, None
                s.add(row)
            return _plan_dict(row)

    def set_plan(self, student_id: str, subject: str, **fields: Any) -> dict[str, Any]:
        """Change plan fields (start_date, pace, adjustments, difficulty_ramp, slow_topics_left)."""
        with self.sessions.begin() as s:
            row = s.get(CurriculumPlan, (student_id, subject))
            if row is None:
                raise LookupError(f"no {subject} plan for student {student_id!r}")
            for key, value in fields.items():
                setattr(row, key, value)
            return _plan_dict(row)

    # -- negotiations ------------------------------------------------------------------------
    def open_negotiation(self, **fields: Any) -> None:
        """Insert a negotiation row (id, student_id, thread_id, subject, skill, kind, parent_id)."""
        with self.sessions.begin() as s:
            s.add(Negotiation(**fields))

    def add_negotiation_message(self, negotiation_id: str, message: dict[str, Any]) -> int:
        """Persist one protocol message; return its sequence number in the negotiation."""
        with self.sessions.begin() as s:
            seq = s.scalar(
                select(func.count()).select_from(NegotiationMessageRow).where(
                    NegotiationMessageRow.negotiation_id == negotiation_id
                )
            )
            row = s.get(Negotiation, negotiation_id)
            if row is None:
                raise LookupError(f"unknown negotiation {negotiation_id!r}")
            if message["type"] == "PROPOSE":
                row.rounds += 1
            s.add(
                NegotiationMessageRow(
                    negotiation_id=negotiation_id,
                    seq=seq or 0,
                    type=message["type"],
                    sender=message["sender"],
                    payload=message,
                )
            )
            return int(seq or 0)

    def close_negotiation(self, negotiation_id: str, status: str, **fields: Any) -> None:
        """Set a negotiation's status (committed, escalated, kept, renegotiated) and fields."""
        with self.sessions.begin() as s:
            row = s.get(Negotiation, negotiation_id)
            if row is None:
                raise LookupError(f"unknown negotiation {negotiation_id!r}")
            row.status = status
            for key, value in fields.items():
                setattr(row, key, value)
            if status != "committed":
                row.closed_at = datetime.now(UTC)

    def negotiations(self, student_id: str, *, limit: int = 5) -> list[dict[str, Any]]:
        """Return the student's latest negotiations, newest first, each with its typed messages."""
        with self.sessions() as s:
            rows = list(
                s.scalars(
                    select(Negotiation)
                    .where(Negotiation.student_id == student_id)
                    .order_by(Negotiation.created_at.desc(), Negotiation.id)
                    .limit(limit)
                )
            )
            messages: dict[str, list[dict[str, Any]]] = {r.id: [] for r in rows}
            if rows:
                for m in s.scalars(
                    select(NegotiationMessageRow)
                    .where(NegotiationMessageRow.negotiation_id.in_(messages))
                    .order_by(NegotiationMessageRow.negotiation_id, NegotiationMessageRow.seq)
                ):
                    messages[m.negotiation_id].append(dict(m.payload))
            return [
                {
                    "id": r.id,
                    "subject": r.subject,
                    "skill": r.skill,
                    "kind": r.kind,
                    "status": r.status,
                    "rounds": r.rounds,
                    "parent_id": r.parent_id,
                    "review_at": _iso(r.review_at),
                    "baseline_mastery": r.baseline_mastery,
                    "outcome": r.outcome,
                    "messages": messages[r.id],
                }
                for r in rows
            ]

    def due_reviews(self, student_id: str, now: datetime) -> list[dict[str, Any]]:
        """Return committed agreements whose review date has passed."""
        with self.sessions() as s:
            rows = s.scalars(
                select(Negotiation).where(
                    Negotiation.student_id == student_id, Negotiation.status == "committed"
                )
            )
            return [
                {"id": r.id, "subject": r.subject, "skill": r.skill, "baseline_mastery": r.baseline_mastery,
                 "kind": r.kind}
                for r in rows
                if (review_at := _aware(r.review_at)) is not None and review_at <= now
            ]

    def open_escalation(self, student_id: str, negotiation_id: str | None, reason: str) -> int:
        """Open a human-tutor escalation and return its id."""
        with self.sessions.begin() as s:
            row = Escalation(student_id=student_id, negotiation_id=negotiation_id, reason=reason)
            s.add(row)
            s.flush()
            return row.id

    def escalations(self, student_id: str) -> list[dict[str, Any]]:
        """Return the student's escalations, oldest first."""
        with self.sessions() as s:
            rows = s.scalars(
                select(Escalation).where(Escalation.student_id == student_id).order_by(Escalation.id)
            )
            return [
                {"id": r.id, "negotiation_id": r.negotiation_id, "reason": r.reason, "status": r.status}
                for r in rows
            ]

    # -- conversation history and agent lifecycle --------------------------------------------
    def record_turn(self, thread_id: str, student_id: str, user_text: str | None, ai_text: str) -> None:
        """Append a turn (or, with no user text, a follow-up reply) to the history; mark it active."""
        now = datetime.now(UTC)
        turn = int(user_text is not None)
        with self.sessions.begin() as s:
            if user_text is not None:
                s.add(ThreadMessage(thread_id=thread_id, role="user", content=user_text, created_at=now))
            s.add(ThreadMessage(thread_id=thread_id, role="assistant", content=ai_text, created_at=now))
            session = s.get(LearningSession, thread_id)
            if session is None:
                s.add(LearningSession(thread_id=thread_id, student_id=student_id, turns=turn, last_active_at=now))
            else:
                session.turns += turn
                session.status = "active"
                session.last_active_at = now

    def history(self, thread_id: str, *, limit: int = 200) -> list[dict[str, str]]:
        """Return the last `limit` messages of a thread, oldest first."""
        with self.sessions() as s:
            rows = list(
                s.scalars(
                    select(ThreadMessage)
                    .where(ThreadMessage.thread_id == thread_id)
                    .order_by(ThreadMessage.id.desc())
                    .limit(limit)
                )
            )
            return [{"role": r.role, "content": r.content} for r in reversed(rows)]


def _iso(ts: datetime | None) -> str | None:
    ts = _aware(ts)
    return ts.isoformat() if ts else None

"""Session reflections in SQL: the signals of a session not reflected on yet, and the reflections.

A session is a student's engagement after their latest reflection (`ReflectionRow` keeps its
high-water marks), so it spans threads and restarts. Rows live on the student's shard, like the
learner store's (`_on`); agents/reflection.py decides what a reflection says.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.models import Attempt, Engagement, Negotiation, ReflectionRow
from tutormesh.core.shards import Database, ShardRouter

MAX_SESSION_ANSWERS = 500  # a session longer than this is reflected on from its latest answers
MAX_HISTORY_ANSWERS = 5000  # the history summary reads at most this many of the window's latest answers


def _iso(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()  # SQLite drops tzinfo; we write UTC


def _reflection(r: ReflectionRow) -> dict[str, Any]:
    return {"id": r.id, "thread_id": r.thread_id, "trigger": r.trigger, "language": r.language,
            "worked": list(r.worked), "struggled": list(r.struggled), "next_steps": dict(r.next_steps),
            "summary": r.summary, "answers": r.answers, "right": r.right,
            "created_at": _iso(r.created_at), "applied_at": _iso(r.applied_at)}


class ReflectionStore:
    """Reads a session's signals and stores its reflection; each method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session], router: ShardRouter | None = None) -> None:
        """Use the given session factory (the one database, or the directory when sharded)."""
        self.sessions = sessions
        self.router = router
        self._single = nullcontext(Database("single", "", sessions.kw["bind"], sessions))

    def _on(self, student_id: str) -> AbstractContextManager[Database]:
        """The database holding `student_id`'s rows (the same routing as the learner store)."""
        return self._single if self.router is None else self.router.using(student_id)

    def session_signals(self, student_id: str) -> dict[str, Any] | None:
        """Return the unreflected session's answers, mastery moves and negotiations (None: no answers).

        Returns:
            `answers` (engagement rows, oldest first), `mastery` (skill -> [p before the session's
            first attempt, p after its last]), `negotiations` (status and skill of those opened
            since the session's first answer) and the high-water marks a reflection stores.
        """
        with self._on(student_id) as db, db.sessions() as s:
            last = s.execute(select(func.max(ReflectionRow.last_engagement_id), func.max(ReflectionRow.last_attempt_id))
                             .where(ReflectionRow.student_id == student_id)).one()
            after_engagement, after_attempt = last[0] or 0, last[1] or 0
            rows = list(s.scalars(select(Engagement).where(Engagement.student_id == student_id,
                                                           Engagement.id > after_engagement)
                                  .order_by(Engagement.id.desc()).limit(MAX_SESSION_ANSWERS)))[::-1]
            if not rows:
                return None
            attempts = list(s.execute(select(Attempt.id, Attempt.skill, Attempt.p_known_before, Attempt.p_known_after)
                                      .where(Attempt.student_id == student_id, Attempt.id > after_attempt)
                                      .order_by(Attempt.id)))
            negotiations = list(s.execute(select(Negotiation.skill, Negotiation.status).where(
                Negotiation.student_id == student_id, Negotiation.created_at >= rows[0].created_at)
                .order_by(Negotiation.created_at)))
        mastery: dict[str, list[float]] = {}
        for _, skill, before, after in attempts:
            mastery.setdefault(skill, [before, after])[1] = after
        return {
            "answers": [{"skill": r.skill, "shown_before": list(r.shown_before), "correct": r.correct,
                         "reason": r.reason, "seconds": r.seconds, "hints_used": r.hints_used, "retry": r.retry}
                        for r in rows],
            "mastery": mastery,
            "negotiations": [{"skill": skill, "status": status} for skill, status in negotiations],
            "thread_id": rows[-1].thread_id, "first_engagement_id": rows[0].id, "last_engagement_id": rows[-1].id,
            "last_attempt_id": attempts[-1][0] if attempts else after_attempt,
        }

    def add(self, student_id: str, **fields: Any) -> dict[str, Any] | None:
        """Store a reflection; None when this session already has one (a concurrent goodbye or sweep)."""
        try:
            with self._on(student_id) as db, db.sessions.begin() as s:
                row = ReflectionRow(student_id=student_id, **fields)
                s.add(row)
                s.flush()
                return _reflection(row)
        except IntegrityError:
            return None

    def latest(self, student_id: str) -> dict[str, Any] | None:
        """Return the student's newest reflection, if any."""
        found = self.recent(student_id, limit=1)
        return found[0] if found else None

    def recent(self, student_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """Return the student's reflections, newest first."""
        with self._on(student_id) as db, db.sessions() as s:
            rows = s.scalars(select(ReflectionRow).where(ReflectionRow.student_id == student_id)
                             .order_by(ReflectionRow.id.desc()).limit(limit))
            return [_reflection(r) for r in rows]

    def since(self, student_id: str, since: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Return the graded answers and reflections since `since`, oldest first (tools/session_history.py)."""
        with self._on(student_id) as db, db.sessions() as s:
            answers = s.execute(select(Engagement.id, Engagement.skill, Engagement.correct, Engagement.seconds,
                                       Engagement.hints_used, Engagement.created_at)
                                .where(Engagement.student_id == student_id, Engagement.created_at >= since)
                                .order_by(Engagement.id.desc()).limit(MAX_HISTORY_ANSWERS)).mappings().all()
            rows = s.scalars(select(ReflectionRow).where(ReflectionRow.student_id == student_id,
                                                         ReflectionRow.created_at >= since)
                             .order_by(ReflectionRow.id))
            kept = [{**_reflection(r), "first_engagement_id": r.first_engagement_id,
                     "last_engagement_id": r.last_engagement_id} for r in rows]
        return [{**a, "created_at": _iso(a["created_at"])} for a in reversed(answers)], kept

    def claim(self, student_id: str, reflection_id: int, thread_id: str) -> bool:
        """Mark a reflection as acted on by a new session; False when another session already did."""
        with self._on(student_id) as db, db.engine.begin() as c:
            done = c.execute(update(ReflectionRow).where(
                ReflectionRow.id == reflection_id, ReflectionRow.student_id == student_id,
                ReflectionRow.applied_at.is_(None)).values(applied_at=datetime.now(UTC), applied_thread_id=thread_id))
            return bool(done.rowcount)


__all__ = ["ReflectionStore"]

"""Human-tutor escalations in SQL: the inbox, claims, replies into the student's thread, resolutions.

An escalation is opened by the admin agent (`LearnerStore.open_escalation`) and moves
open -> claimed -> resolved here. Every query is scoped by cohort: `cohorts=None` means every
cohort (admins); a set limits rows to students of those cohorts, and an escalation outside the
scope is answered exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from tutormesh.core.errors import Conflict, Invalid, NotFound
from tutormesh.core.models import Escalation, LearningSession, Negotiation, ThreadMessage, User, utcnow

STATUSES = ("open", "claimed", "resolved")


def _aware(ts: datetime | None) -> datetime | None:
    # SQLite drops tzinfo; every timestamp we write is UTC.
    return ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)


def _iso(ts: datetime | None) -> str | None:
    aware = _aware(ts)
    return aware.isoformat() if aware else None


class EscalationStore:
    """The human-tutor inbox over one database; each method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Use the given session factory."""
        self.sessions = sessions

    @staticmethod
    def _scoped(query: Select[Any], cohorts: Collection[str] | None) -> Select[Any]:
        if cohorts is not None:
            query = query.where(User.cohort.in_(list(cohorts)))
        return query

    def _base(self) -> Select[Any]:
        staff = aliased(User)
        claimer = (select(staff.username).where(staff.id == Escalation.claimed_by)
                   .correlate(Escalation).scalar_subquery())
        return (select(Escalation, User.username, User.cohort, claimer.label("claimed_by_name"))
                .join(User, User.student_id == Escalation.student_id))

    def _row(self, esc: Escalation, username: str, cohort: str | None, claimer: str | None,
             now: datetime, sla_s: float) -> dict[str, Any]:
        created = _aware(esc.created_at) or now
        answered = _aware(esc.first_reply_at) or _aware(esc.resolved_at)
        waited = ((answered or now) - created).total_seconds()
        return {"id": esc.id, "student_id": esc.student_id, "student": username, "cohort": cohort,
                "negotiation_id": esc.negotiation_id, "reason": esc.reason, "status": esc.status,
                "claimed_by": claimer, "claimed_at": _iso(esc.claimed_at), "created_at": created.isoformat(),
                "first_reply_at": _iso(esc.first_reply_at), "resolved_at": _iso(esc.resolved_at),
                "resolution": esc.resolution, "age_s": round((now - created).total_seconds(), 1),
                "sla_s": sla_s, "overdue": answered is None and waited > sla_s}

    def inbox(self, cohorts: Collection[str] | None, *, status: str | None = None, sla_s: float,
              limit: int = 200) -> list[dict[str, Any]]:
        """List escalations in scope, oldest waiting first (resolved ones: newest first)."""
        if status is not None and status not in STATUSES:
            raise Invalid(f"status: one of {', '.join(STATUSES)}")
        query = self._scoped(self._base(), cohorts)
        if status is not None:
            query = query.where(Escalation.status == status)
        order = Escalation.id.desc() if status == "resolved" else Escalation.id
        now = utcnow()
        with self.sessions() as s:
            return [self._row(e, u, c, n, now, sla_s) for e, u, c, n in s.execute(query.order_by(order).limit(limit))]

    def get(self, escalation_id: int, cohorts: Collection[str] | None, *, sla_s: float) -> dict[str, Any]:
        """Return one escalation with its thread id; NotFound outside the scope."""
        query = self._scoped(self._base().where(Escalation.id == escalation_id), cohorts)
        with self.sessions() as s:
            found = s.execute(query).first()
            if found is None:
                raise NotFound("escalation not found")
            esc, username, cohort, claimer = found
            row = self._row(esc, username, cohort, claimer, utcnow(), sla_s)
            row["thread_id"] = self._thread_of(s, esc)
            return row

    @staticmethod
    def _thread_of(s: Session, esc: Escalation) -> str | None:
        if esc.negotiation_id:
            thread = s.scalar(select(Negotiation.thread_id).where(Negotiation.id == esc.negotiation_id))
            if thread:
                return str(thread)
        latest = s.scalar(select(LearningSession.thread_id).where(LearningSession.student_id == esc.student_id)
                          .order_by(LearningSession.last_active_at.desc()).limit(1))
        return str(latest) if latest else None

    def claim(self, escalation_id: int, user_id: str, cohorts: Collection[str] | None) -> None:
        """Claim an open escalation (claiming your own again is a no-op); Conflict if someone else has it."""
        with self.sessions.begin() as s:
            esc = self._in_scope(s, escalation_id, cohorts)
            if esc.status == "resolved":
                raise Conflict("escalation already resolved")
            if esc.claimed_by not in (None, user_id):
                raise Conflict("escalation already claimed by another tutor")
            done = s.execute(update(Escalation).where(
                Escalation.id == escalation_id, Escalation.status != "resolved",
                (Escalation.claimed_by.is_(None)) | (Escalation.claimed_by == user_id),
            ).values(status="claimed", claimed_by=user_id, claimed_at=esc.claimed_at or utcnow()))
            if getattr(done, "rowcount", 1) == 0:
                raise Conflict("escalation already claimed by another tutor")

    def reply(self, escalation_id: int, user_id: str, cohorts: Collection[str] | None, *, author: str,
              text: str, thread_id: str) -> dict[str, Any]:
        """Post a claimed escalation's reply into the student's thread as a message from a named human."""
        with self.sessions.begin() as s:
            esc = self._in_scope(s, escalation_id, cohorts)
            if esc.status == "resolved":
                raise Conflict("escalation already resolved")
            if esc.claimed_by != user_id:
                raise Conflict("claim the escalation before replying")
            now = utcnow()
            message = ThreadMessage(thread_id=thread_id, role="tutor", content=text, author=author, created_at=now)
            s.add(message)
            if esc.first_reply_at is None:
                esc.first_reply_at = now
            s.execute(update(LearningSession).where(LearningSession.thread_id == thread_id)
                      .values(last_active_at=now))
            s.flush()
            return {"id": message.id, "role": "tutor", "author": author, "content": text,
                    "created_at": now.isoformat()}

    def resolve(self, escalation_id: int, user_id: str, cohorts: Collection[str] | None, *, reason: str,
                admin: bool = False) -> None:
        """Close an escalation with a reason (the claimer, or an admin)."""
        with self.sessions.begin() as s:
            esc = self._in_scope(s, escalation_id, cohorts)
            if esc.status == "resolved":
                raise Conflict("escalation already resolved")
            if not admin and esc.claimed_by not in (None, user_id):
                raise Conflict("escalation claimed by another tutor")
            esc.status, esc.resolution, esc.resolved_at = "resolved", reason, utcnow()
            esc.claimed_by = esc.claimed_by or user_id

    def tutor_messages(self, thread_id: str, *, after: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        """Return a thread's human-tutor messages with an id over `after`, oldest first."""
        with self.sessions() as s:
            rows = s.scalars(select(ThreadMessage).where(ThreadMessage.thread_id == thread_id,
                                                         ThreadMessage.role == "tutor", ThreadMessage.id > after)
                             .order_by(ThreadMessage.id).limit(limit))
            return [{"id": r.id, "role": r.role, "author": r.author, "content": r.content,
                     "created_at": _iso(r.created_at)} for r in rows]

    def _in_scope(self, s: Session, escalation_id: int, cohorts: Collection[str] | None) -> Escalation:
        query = self._scoped(select(Escalation).join(User, User.student_id == Escalation.student_id)
                             .where(Escalation.id == escalation_id), cohorts)
        esc: Escalation | None = s.scalar(query.with_for_update())
        if esc is None:
            raise NotFound("escalation not found")
        return esc

    def counts(self, *, sla_s: float) -> dict[str, int]:
        """Open, claimed and overdue (unanswered past the SLA) escalations, for platform health."""
        now = utcnow()
        out = {"open": 0, "claimed": 0, "overdue": 0}
        with self.sessions() as s:
            for status, created, replied in s.execute(select(Escalation.status, Escalation.created_at,
                                                             Escalation.first_reply_at)
                                                      .where(Escalation.status != "resolved")):
                out[status] = out.get(status, 0) + 1
                if replied is None and (now - (_aware(created) or now)).total_seconds() > sla_s:
                    out["overdue"] += 1
        return out

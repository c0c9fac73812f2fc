"""Human-tutor escalations in SQL: the inbox, claims, replies into the student's thread, resolutions.

An escalation is opened by the admin agent (`LearnerStore.open_escalation`) and moves
open -> claimed -> resolved here. Every query is scoped by cohort: `cohorts=None` means every
cohort (admins); a set limits rows to students of those cohorts, and an escalation outside the
scope is answered exactly like a missing one.

Sharded (docs/scale-plan.md), an escalation lives on its student's shard, beside the thread a
reply goes into; the people (students' usernames and cohorts, claimers) are read from the
directory and joined here, so the same code serves one database and many.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.errors import Conflict, Invalid, NotFound
from tutormesh.core.models import Escalation, LearningSession, Negotiation, ThreadMessage, User, utcnow
from tutormesh.core.shards import Database, Placement, ShardRouter, router_of

STATUSES = ("open", "claimed", "resolved")
T = TypeVar("T")


def _aware(ts: datetime | None) -> datetime | None:
    # SQLite drops tzinfo; every timestamp we write is UTC.
    return ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)


def _iso(ts: datetime | None) -> str | None:
    aware = _aware(ts)
    return aware.isoformat() if aware else None


class EscalationStore:
    """The human-tutor inbox over one database (or its shards); each method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session], router: ShardRouter | None = None) -> None:
        """Use the given session factory (the directory when sharded)."""
        self.sessions = sessions
        self.placement = Placement(sessions, router or router_of(sessions))

    # -- where the rows are ------------------------------------------------------------------
    def _in_scope_ids(self, cohorts: Collection[str] | None) -> list[str] | None:
        """The student ids of the cohorts in scope (None: every student)."""
        if cohorts is None:
            return None
        with self.sessions() as s:
            return [str(sid) for sid in s.scalars(select(User.student_id).where(
                User.cohort.in_(list(cohorts)), User.student_id.is_not(None)))]

    def _read(self, ids: list[str] | None, work: Callable[[Session, list[str] | None], list[T]]) -> list[T]:
        """Run `work` on the databases of the students `ids` (None: on every database)."""
        if ids is not None:
            return self.placement.for_students(ids, work)
        out: list[T] = []
        for db in self.placement.databases():
            with db.sessions() as s:
                out += work(s, None)
        return out

    def _people(self, escalations: list[Escalation],
                cohorts: Collection[str] | None) -> tuple[dict[str, tuple[str, str | None]], dict[str, str]]:
        """(username, cohort) of the escalations' students with a login in scope, and claimers' usernames."""
        students = {e.student_id for e in escalations}
        claimers = {e.claimed_by for e in escalations if e.claimed_by}
        if not students:
            return {}, {}
        with self.sessions() as s:
            people = {str(sid): (str(name), cohort) for sid, name, cohort in s.execute(
                select(User.student_id, User.username, User.cohort).where(User.student_id.in_(students)))
                if cohorts is None or cohort in cohorts}
            names = dict(s.execute(select(User.id, User.username).where(User.id.in_(claimers))).all()) \
                if claimers else {}
        return people, {str(k): str(v) for k, v in names.items()}

    def _locate(self, escalation_id: int) -> tuple[Database, Escalation] | None:
        for db in self.placement.databases():  # serial ids are unique across databases (shard_ops.ID_STRIDE)
            with db.sessions() as s:
                esc = s.get(Escalation, escalation_id)
                if esc is not None:
                    return db, esc
        return None

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

    # -- reads -------------------------------------------------------------------------------
    def inbox(self, cohorts: Collection[str] | None, *, status: str | None = None, sla_s: float,
              limit: int = 200) -> list[dict[str, Any]]:
        """List escalations in scope, oldest waiting first (resolved ones: newest first)."""
        if status is not None and status not in STATUSES:
            raise Invalid(f"status: one of {', '.join(STATUSES)}")
        newest_first = status == "resolved"

        def read(s: Session, ids: list[str] | None) -> list[Escalation]:
            query = select(Escalation)
            if ids is not None:
                query = query.where(Escalation.student_id.in_(ids))
            if status is not None:
                query = query.where(Escalation.status == status)
            return list(s.scalars(query.order_by(Escalation.id.desc() if newest_first else Escalation.id)
                                  .limit(limit)))

        found = self._read(self._in_scope_ids(cohorts), read)
        people, claimers = self._people(found, cohorts)
        now = utcnow()
        rows = [self._row(e, *people[e.student_id], claimers.get(e.claimed_by or ""), now, sla_s)
                for e in found if e.student_id in people]
        return sorted(rows, key=lambda r: int(r["id"]), reverse=newest_first)[:limit]

    def get(self, escalation_id: int, cohorts: Collection[str] | None, *, sla_s: float) -> dict[str, Any]:
        """Return one escalation with its thread id; NotFound outside the scope."""
        located = self._locate(escalation_id)
        if located is None:
            raise NotFound("escalation not found")
        db, esc = located
        people, claimers = self._people([esc], cohorts)
        if esc.student_id not in people:
            raise NotFound("escalation not found")
        row = self._row(esc, *people[esc.student_id], claimers.get(esc.claimed_by or ""), utcnow(), sla_s)
        with db.sessions() as s:
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

    # -- writes --------------------------------------------------------------------------------
    @contextmanager
    def _writing(self, escalation_id: int, cohorts: Collection[str] | None) -> Iterator[tuple[Session, Escalation]]:
        """The escalation locked for update in a transaction on its database; NotFound outside the scope."""
        located = self._locate(escalation_id)
        if located is None or located[1].student_id not in self._people([located[1]], cohorts)[0]:
            raise NotFound("escalation not found")
        with self.placement.on(located[1].student_id) as db, db.sessions.begin() as s:
            esc = s.get(Escalation, escalation_id, with_for_update=True)
            if esc is None:
                raise NotFound("escalation not found")
            yield s, esc

    def claim(self, escalation_id: int, user_id: str, cohorts: Collection[str] | None) -> None:
        """Claim an open escalation (claiming your own again is a no-op); Conflict if someone else has it."""
        with self._writing(escalation_id, cohorts) as (s, esc):
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
        with self._writing(escalation_id, cohorts) as (s, esc):
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
        with self._writing(escalation_id, cohorts) as (_s, esc):
            if esc.status == "resolved":
                raise Conflict("escalation already resolved")
            if not admin and esc.claimed_by not in (None, user_id):
                raise Conflict("escalation claimed by another tutor")
            esc.status, esc.resolution, esc.resolved_at = "resolved", reason, utcnow()
            esc.claimed_by = esc.claimed_by or user_id

    def tutor_messages(self, thread_id: str, *, after: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        """Return a thread's human-tutor messages with an id over `after`, oldest first."""
        query = select(ThreadMessage).where(ThreadMessage.thread_id == thread_id, ThreadMessage.role == "tutor",
                                            ThreadMessage.id > after).order_by(ThreadMessage.id).limit(limit)
        place = self.placement.on_owned(thread_id)
        databases = self.placement.databases()  # a thread id that names no shard: look on each
        if place is not None:
            with place as db:
                databases = [db]
        rows: list[ThreadMessage] = []
        for db in databases:
            with db.sessions() as s:
                rows += s.scalars(query)
        return [{"id": r.id, "role": r.role, "author": r.author, "content": r.content,
                 "created_at": _iso(r.created_at)} for r in sorted(rows, key=lambda r: r.id)[:limit]]

    def counts(self, *, sla_s: float) -> dict[str, int]:
        """Open, claimed and overdue (unanswered past the SLA) escalations, for platform health."""
        now = utcnow()
        out = {"open": 0, "claimed": 0, "overdue": 0}
        for db in self.placement.databases():
            with db.sessions() as s:
                for status, created, replied in s.execute(select(Escalation.status, Escalation.created_at,
                                                                 Escalation.first_reply_at)
                                                          .where(Escalation.status != "resolved")):
                    out[status] = out.get(status, 0) + 1
                    if replied is None and (now - (_aware(created) or now)).total_seconds() > sla_s:
                        out["overdue"] += 1
        return out

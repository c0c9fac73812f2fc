"""Accounts in SQL: users and roles, thread ownership and visibility, agent lifecycle events.

Plain dicts in and out (never the password hash, except from `credentials`). One SQLAlchemy code
path for SQLite and Postgres; each method is one short transaction.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.errors import Conflict, Invalid, NotFound
from tutormesh.core.models import LearningSession, LifecycleEvent, Profile, Student, User, utcnow
from tutormesh.core.models.accounts import ROLES

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}$")
COHORT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$")


def _user(row: User) -> dict[str, Any]:
    return {"id": row.id, "username": row.username, "role": row.role, "cohort": row.cohort,
            "student_id": row.student_id}


def _iso(ts: datetime) -> str:
    # SQLite drops tzinfo; every timestamp we write is UTC.
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()


def _thread(row: LearningSession) -> dict[str, Any]:
    return {"thread_id": row.thread_id, "student_id": row.student_id, "status": row.status, "turns": row.turns,
            "started_at": _iso(row.started_at), "last_active_at": _iso(row.last_active_at)}


def check_user_fields(username: str | None = None, role: str | None = None, cohort: str | None = None) -> None:
    """Raise Invalid with a reason when a username, role or cohort is not acceptable."""
    if username is not None and not USERNAME.match(username):
        raise Invalid("username: 1-80 characters: letters, digits and _ . @ - (starting with a letter or digit)")
    if role is not None and role not in ROLES:
        raise Invalid(f"role: must be one of {', '.join(ROLES)}")
    if cohort is not None and not COHORT.match(cohort):
        raise Invalid("cohort: 1-80 characters: letters, digits, spaces and _ . -")


class AccountStore:
    """Users, thread ownership and lifecycle events over one database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Use the given session factory."""
        self.sessions = sessions

    # -- users ---------------------------------------------------------------------------
    def create_user(self, username: str, password_hash: str, role: str, cohort: str | None = None) -> dict[str, Any]:
        """Create a user; a student also gets (or is linked to) a learner record of the same name."""
        check_user_fields(username, role, cohort)
        try:
            with self.sessions.begin() as s:
                if s.scalar(select(User.id).where(User.username == username)) is not None:
                    raise Conflict("username: already taken")
                student_id = None
                if role == "student":
                    student_id = s.scalar(select(Student.id).where(Student.name == username))
                    if student_id is None:
                        student_id = uuid.uuid4().hex[:12]
                        s.add(Student(id=student_id, name=username))
                        s.flush()
                        s.add(Profile(student_id=student_id))
                row = User(id=uuid.uuid4().hex, username=username, password_hash=password_hash, role=role,
                           cohort=cohort, student_id=student_id)
                s.add(row)
                s.flush()
                return _user(row)
        except IntegrityError as exc:  # a concurrent create, or a learner already linked to another user
            raise Conflict("username: already taken") from exc

    def credentials(self, username: str) -> tuple[dict[str, Any], str] | None:
        """Return the user and their password hash, or None."""
        with self.sessions() as s:
            row = s.scalar(select(User).where(User.username == username))
            return (_user(row), row.password_hash) if row else None

    def get(self, user_id: str) -> dict[str, Any] | None:
        """Return a user by id, or None."""
        with self.sessions() as s:
            row = s.get(User, user_id)
            return _user(row) if row else None

    def list_users(self, role: str | None = None, cohort: str | None = None) -> list[dict[str, Any]]:
        """Return users, optionally filtered by role and cohort, by username."""
        query = select(User).order_by(User.username)
        if role:
            query = query.where(User.role == role)
        if cohort:
            query = query.where(User.cohort == cohort)
        with self.sessions() as s:
            return [_user(r) for r in s.scalars(query)]

    def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Change cohort or password_hash (role changes would orphan learner data: recreate instead)."""
        check_user_fields(cohort=fields.get("cohort"))
        with self.sessions.begin() as s:
            row = s.get(User, user_id)
            if row is None:
                raise NotFound("user not found")
            for key in ("cohort", "password_hash"):
                if key in fields:
                    setattr(row, key, fields[key])
            return _user(row)

    def delete_user(self, user_id: str) -> None:
        """Delete a login; the learner record and its history stay (they belong to the school)."""
        with self.sessions.begin() as s:
            row = s.get(User, user_id)
            if row is None:
                raise NotFound("user not found")
            s.delete(row)

    # -- threads -------------------------------------------------------------------------
    def create_thread(self, student_id: str) -> dict[str, Any]:
        """Start a conversation thread owned by the student."""
        with self.sessions.begin() as s:
            row = LearningSession(thread_id=uuid.uuid4().hex, student_id=student_id, turns=0)
            s.add(row)
            s.flush()
            return _thread(row)

    def thread(self, thread_id: str) -> tuple[dict[str, Any], str | None] | None:
        """Return a thread and the cohort of its student's user, or None."""
        with self.sessions() as s:
            found = s.execute(
                select(LearningSession, User.cohort)
                .outerjoin(User, User.student_id == LearningSession.student_id)
                .where(LearningSession.thread_id == thread_id)
            ).first()
            return (_thread(found[0]), found[1]) if found else None

    def threads(self, *, student_id: str | None = None, cohort: str | None = None) -> list[dict[str, Any]]:
        """Return threads of one student, of one cohort's students, or all, latest activity first."""
        query = select(LearningSession).order_by(LearningSession.last_active_at.desc()).limit(200)
        if student_id is not None:
            query = query.where(LearningSession.student_id == student_id)
        if cohort is not None:
            query = query.join(User, User.student_id == LearningSession.student_id).where(User.cohort == cohort)
        with self.sessions() as s:
            return [_thread(r) for r in s.scalars(query)]

    # -- agent lifecycle -----------------------------------------------------------------
    def record_event(self, student_id: str, event: str, thread_id: str | None = None) -> None:
        """Append a lifecycle event (spawned, paused, resumed)."""
        with self.sessions.begin() as s:
            s.add(LifecycleEvent(student_id=student_id, thread_id=thread_id, event=event))

    def events(self, student_id: str) -> list[dict[str, Any]]:
        """Return a student's lifecycle events, oldest first."""
        with self.sessions() as s:
            rows = s.scalars(select(LifecycleEvent).where(LifecycleEvent.student_id == student_id)
                             .order_by(LifecycleEvent.id))
            return [{"event": r.event, "thread_id": r.thread_id, "at": _iso(r.created_at)} for r in rows]

    def pause_idle(self, cutoff: datetime) -> list[dict[str, Any]]:
        """Pause active threads idle since before `cutoff`; record a `paused` event for each."""
        with self.sessions.begin() as s:
            rows = list(s.scalars(select(LearningSession).where(
                LearningSession.status == "active", LearningSession.last_active_at < cutoff).with_for_update()))
            for row in rows:
                row.status = "paused"
                s.add(LifecycleEvent(student_id=row.student_id, thread_id=row.thread_id, event="paused"))
            return [_thread(r) for r in rows]

    def resume(self, thread_id: str) -> bool:
        """Mark a paused thread active again (recording `resumed`); return whether it was paused."""
        with self.sessions.begin() as s:
            result = s.execute(update(LearningSession).where(
                LearningSession.thread_id == thread_id, LearningSession.status == "paused"
            ).values(status="active", last_active_at=utcnow()).returning(LearningSession.student_id))
            student_id = result.scalar()
            if student_id is None:
                return False
            s.add(LifecycleEvent(student_id=student_id, thread_id=thread_id, event="resumed"))
            return True

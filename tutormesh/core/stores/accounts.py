"""Accounts in SQL: users and roles, failed sign-ins, thread ownership, agent lifecycle events.

Plain dicts in and out (never the password hash, except from `credentials`). One SQLAlchemy code
path for SQLite and Postgres; each method is one short transaction. A student user owns exactly
one learner record, linked by id when the user is created and erased with the user.

Sharded (docs/scale-plan.md), users and turn records stay in the directory; threads, their
lifecycle events and the learner record's rows live on the student's shard (`Placement`).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.errors import Conflict, Invalid, NotFound
from tutormesh.core.models import (
    LearningSession,
    LifecycleEvent,
    LoginFailure,
    Profile,
    Student,
    ThreadMessage,
    TurnRecord,
    User,
    utcnow,
)
from tutormesh.core.models.accounts import ROLES
from tutormesh.core.models.assessment import AssessmentEvent, QuizAssignment
from tutormesh.core.shards import Database, Placement, ShardRouter, owned_id, router_of

TURN_KEY_HOURS = 24
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}$")
COHORT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$")


def _user(row: User) -> dict[str, Any]:
    return {"id": row.id, "username": row.username, "role": row.role, "cohort": row.cohort,
            "student_id": row.student_id, "token_version": row.token_version or 0}


def _aware(ts: datetime) -> datetime:
    # SQLite drops tzinfo; every timestamp we write is UTC.
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _iso(ts: datetime) -> str:
    return _aware(ts).isoformat()


def username_hash(username: str) -> str:
    """Return the key failed sign-ins are counted under (never the typed text itself)."""
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()


def erase_learner(s: Session, student_id: str) -> list[str]:
    """Delete a learner record and everything recorded about that learner; return their thread ids.

    Chat history, threads, mastery, attempts, plans, negotiations, escalations, submissions and
    their results go (foreign keys cascade from `students`; the rest is deleted here). The cost
    ledger keeps its rows under the now meaningless random id. The caller drops the threads'
    checkpoints, which live outside SQL.
    """
    threads = list(s.scalars(select(LearningSession.thread_id).where(LearningSession.student_id == student_id)))
    if threads:
        s.execute(delete(ThreadMessage).where(ThreadMessage.thread_id.in_(threads)))
    s.execute(delete(AssessmentEvent).where(AssessmentEvent.student_id == student_id))
    s.execute(delete(QuizAssignment).where(QuizAssignment.student_id == student_id))
    s.execute(update(User).where(User.student_id == student_id).values(student_id=None))
    s.execute(delete(Student).where(Student.id == student_id))
    return threads


def _thread(row: LearningSession) -> dict[str, Any]:
    return {"thread_id": row.thread_id, "student_id": row.student_id, "status": row.status, "turns": row.turns,
            "started_at": _iso(row.started_at), "last_active_at": _iso(row.last_active_at)}


def check_user_fields(username: str | None = None, role: str | None = None, cohort: str | None = None) -> None:
    """Raise Invalid with a reason when a username, role or cohort is not acceptable."""
    if username is not None and not USERNAME.fullmatch(username):
        raise Invalid("username: 1-80 characters: letters, digits and _ . @ - (starting with a letter or digit)")
    if role is not None and role not in ROLES:
        raise Invalid(f"role: must be one of {', '.join(ROLES)}")
    if cohort is not None and not COHORT.fullmatch(cohort):
        raise Invalid("cohort: 1-80 characters: letters, digits, spaces and _ . -")


def _spawn(s: Session, student_id: str, name: str | None = None) -> None:
    """Create the learner record and its default profile on this database, if missing."""
    if s.get(Student, student_id) is None:
        s.add(Student(id=student_id, name=name or student_id))
        s.flush()  # rows without relationship() are not ordered by foreign key
        s.add(Profile(student_id=student_id))


def _cohort_ids(s: Session, cohort: str) -> list[str]:
    return [str(sid) for sid in s.scalars(select(User.student_id).where(
        User.cohort == cohort, User.student_id.is_not(None)))]


class AccountStore:
    """Users, thread ownership and lifecycle events over one database (or its shards)."""

    def __init__(self, sessions: sessionmaker[Session], router: ShardRouter | None = None) -> None:
        """Use the given session factory; sharded, student rows go where `router` (or the settings) says."""
        self.sessions = sessions
        self.placement = Placement(sessions, router or router_of(sessions))
        self.router = self.placement.router

    # -- users ---------------------------------------------------------------------------
    def create_user(self, username: str, password_hash: str, role: str, cohort: str | None = None) -> dict[str, Any]:
        """Create a user; a student also gets a new learner record of their own, linked by id.

        Never by name: a learner record left by someone else (an old account, a CLI chat) is not
        theirs to read.
        """
        check_user_fields(username, role, cohort)
        try:
            with self.sessions.begin() as s:
                if s.scalar(select(User.id).where(User.username == username)) is not None:
                    raise Conflict("username: already taken")
                student_id = None
                if role == "student":
                    student_id = uuid.uuid4().hex[:12]
                    if self.router is None:
                        _spawn(s, student_id, f"user-{student_id}")
                    else:  # the directory keeps the registry row; the learner record lives on the shard
                        s.add(Student(id=student_id, name=f"user-{student_id}"))
                        with self.placement.on(student_id) as db, db.sessions.begin() as shard:
                            _spawn(shard, student_id, f"user-{student_id}")
                    s.flush()
                row = User(id=uuid.uuid4().hex, username=username, password_hash=password_hash, role=role,
                           cohort=cohort, student_id=student_id, token_version=0)
                s.add(row)
                s.flush()
                return _user(row)
        except IntegrityError as exc:  # a concurrent create of the same username
            raise Conflict("username: already taken") from exc

    def by_username(self, username: str) -> dict[str, Any] | None:
        """Return a user by username, or None."""
        with self.sessions() as s:
            row = s.scalar(select(User).where(User.username == username))
            return _user(row) if row else None

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
        """Change cohort, role (staff only) or password_hash; a new password or role revokes older tokens."""
        check_user_fields(cohort=fields.get("cohort"), role=fields.get("role"))
        with self.sessions.begin() as s:
            row = s.get(User, user_id)
            if row is None:
                raise NotFound("user not found")
            role = fields.get("role", row.role)
            if role != row.role and "student" in (role, row.role):
                raise Invalid("role: a student account cannot change role (its learner data is the student's); "
                              "create a new account")
            if ("password_hash" in fields and fields["password_hash"] != row.password_hash) or role != row.role:
                row.token_version = (row.token_version or 0) + 1
            for key in ("cohort", "password_hash", "role"):
                if key in fields:
                    setattr(row, key, fields[key])
            return _user(row)

    def delete_user(self, user_id: str) -> list[str]:
        """Delete a login and erase its learner data (see `erase_learner`); return the erased thread ids."""
        with self.sessions() as s:
            row = s.get(User, user_id)
            if row is None:
                raise NotFound("user not found")
            student_id = row.student_id
        threads: list[str] = []
        if student_id and self.router is not None:  # the shard first: a failure leaves the login to retry with
            with self.placement.on(student_id) as db, db.sessions.begin() as shard:
                threads = erase_learner(shard, student_id)
        with self.sessions.begin() as s:
            row = s.get(User, user_id)
            if row is None:
                raise NotFound("user not found")
            s.delete(row)
            s.flush()
            return threads + (erase_learner(s, student_id) if student_id else [])

    # -- failed sign-ins -----------------------------------------------------------------
    def lockout_seconds(self, username: str) -> int:
        """Return how long sign-ins of this username are still refused (0: not locked)."""
        with self.sessions() as s:
            row = s.get(LoginFailure, username_hash(username))
            if row is None or row.locked_until is None:
                return 0
            return max(0, int((_aware(row.locked_until) - utcnow()).total_seconds() + 0.999))

    def record_failed_login(self, username: str, *, limit: int, window_s: float, lockout_s: float) -> int:
        """Count a failed sign-in; lock the username for `lockout_s` at `limit` failures within `window_s`.

        Returns the lockout in seconds that this failure started (0: not locked). Unknown usernames
        are counted too, so a lockout does not reveal which accounts exist.
        """
        key, now = username_hash(username), utcnow()
        for _ in range(2):  # a concurrent first failure may insert the row between our read and write
            try:
                with self.sessions.begin() as s:
                    row = s.get(LoginFailure, key, with_for_update=True)
                    if row is None:
                        row = LoginFailure(username_hash=key, failures=0, window_started_at=now)
                        s.add(row)
                    if (now - _aware(row.window_started_at)).total_seconds() > window_s:
                        row.failures, row.window_started_at = 0, now
                    row.failures += 1
                    if row.failures >= limit:
                        row.locked_until, row.failures, row.window_started_at = (
                            now + timedelta(seconds=lockout_s), 0, now)
                        return int(lockout_s)
                    return 0
            except IntegrityError:
                continue
        return 0

    def clear_failed_logins(self, username: str) -> bool:
        """Forget a username's failed sign-ins and lift its lockout; return whether there was one."""
        with self.sessions.begin() as s:
            row = s.get(LoginFailure, username_hash(username))
            locked = row is not None and row.locked_until is not None and _aware(row.locked_until) > utcnow()
            s.execute(delete(LoginFailure).where(LoginFailure.username_hash == username_hash(username)))
            return locked

    # -- threads ---------------------------------------------------------------------------
    def create_thread(self, student_id: str) -> dict[str, Any]:
        """Start a conversation thread owned by the student (sharded: on their shard, its id naming it)."""
        thread_id = uuid.uuid4().hex if self.router is None else owned_id(student_id)
        with self.placement.on(student_id) as db, db.sessions.begin() as s:
            if self.router is not None:  # a roster or CLI student is spawned on the shard at first use
                _spawn(s, student_id)
            row = LearningSession(thread_id=thread_id, student_id=student_id, turns=0)
            s.add(row)
            s.flush()
            return _thread(row)

    def _find_thread(self, thread_id: str) -> tuple[Database, dict[str, Any]] | None:
        """The database holding a thread and the thread; an id that names no shard is looked for on each."""
        found = self.placement.on_owned(thread_id)
        places = [found] if found is not None else [nullcontext(db) for db in self.placement.databases()]
        for place in places:
            with place as db, db.sessions() as s:
                row = s.get(LearningSession, thread_id)
                if row is not None:
                    return db, _thread(row)
        return None

    def thread(self, thread_id: str) -> tuple[dict[str, Any], str | None] | None:
        """Return a thread and the cohort of its student's user, or None."""
        if self.router is None:
            with self.sessions() as s:
                found = s.execute(
                    select(LearningSession, User.cohort)
                    .outerjoin(User, User.student_id == LearningSession.student_id)
                    .where(LearningSession.thread_id == thread_id)
                ).first()
                return (_thread(found[0]), found[1]) if found else None
        located = self._find_thread(thread_id)
        if located is None:
            return None
        thread = located[1]
        with self.sessions() as s:
            return thread, s.scalar(select(User.cohort).where(User.student_id == thread["student_id"]))

    def threads(self, *, student_id: str | None = None, cohort: str | None = None) -> list[dict[str, Any]]:
        """Return threads of one student, of one cohort's students, or all, latest activity first."""
        query = select(LearningSession).order_by(LearningSession.last_active_at.desc()).limit(200)
        if self.router is None:
            if student_id is not None:
                query = query.where(LearningSession.student_id == student_id)
            if cohort is not None:
                query = query.join(User, User.student_id == LearningSession.student_id).where(User.cohort == cohort)
            with self.sessions() as s:
                return [_thread(r) for r in s.scalars(query)]

        def read(s: Session, ids: list[str] | None) -> list[dict[str, Any]]:
            q = query if ids is None else query.where(LearningSession.student_id.in_(ids))
            return [_thread(r) for r in s.scalars(q)]

        if student_id is not None:
            if cohort is not None:
                with self.sessions() as s:
                    if student_id not in _cohort_ids(s, cohort):
                        return []
            with self.placement.on(student_id) as db, db.sessions() as s:
                return read(s, [student_id])
        if cohort is not None:
            with self.sessions() as s:
                ids = _cohort_ids(s, cohort)
            rows = self.placement.for_students(ids, read)
        else:
            rows = []
            for db in self.placement.databases():
                with db.sessions() as s:
                    rows += read(s, None)
        return sorted(rows, key=lambda r: r["last_active_at"], reverse=True)[:200]

    # -- idempotent turns ----------------------------------------------------------------
    def claim_turn(self, user_id: str, thread_id: str, key: str, request_hash: str) -> str | None:
        """Start the turn sent under an Idempotency-Key, or return its stored result (JSON) if it ran.

        Raises Conflict while the first request with this key is still running, and Invalid when
        the key was used for a different message. Keys are scoped to the user and thread and kept
        for `TURN_KEY_HOURS`.
        """
        with self.sessions.begin() as s:
            s.execute(delete(TurnRecord).where(TurnRecord.user_id == user_id,
                                               TurnRecord.created_at < utcnow() - timedelta(hours=TURN_KEY_HOURS)))
        try:
            with self.sessions.begin() as s:
                s.add(TurnRecord(user_id=user_id, thread_id=thread_id, key=key, request_hash=request_hash))
            return None
        except IntegrityError:
            pass
        with self.sessions() as s:
            row = s.get(TurnRecord, (user_id, thread_id, key))
        if row is None:  # released by a failed first attempt in between: run it now
            return self.claim_turn(user_id, thread_id, key, request_hash)
        if row.request_hash != request_hash:
            raise Invalid("Idempotency-Key: already used for a different message on this thread")
        if row.result is None:
            raise Conflict("a turn with this Idempotency-Key is still running; retry shortly")
        return row.result

    def finish_turn(self, user_id: str, thread_id: str, key: str, result: str) -> None:
        """Store the result of a claimed turn, for retries to get."""
        with self.sessions.begin() as s:
            s.execute(update(TurnRecord).where(TurnRecord.user_id == user_id, TurnRecord.thread_id == thread_id,
                                               TurnRecord.key == key).values(result=result))

    def release_turn(self, user_id: str, thread_id: str, key: str) -> None:
        """Forget a claimed turn that failed, so a retry runs it again."""
        with self.sessions.begin() as s:
            s.execute(delete(TurnRecord).where(TurnRecord.user_id == user_id, TurnRecord.thread_id == thread_id,
                                               TurnRecord.key == key, TurnRecord.result.is_(None)))

    # -- agent lifecycle -----------------------------------------------------------------
    def record_event(self, student_id: str, event: str, thread_id: str | None = None) -> None:
        """Append a lifecycle event (spawned, paused, resumed)."""
        with self.placement.on(student_id) as db, db.sessions.begin() as s:
            s.add(LifecycleEvent(student_id=student_id, thread_id=thread_id, event=event))

    def events(self, student_id: str) -> list[dict[str, Any]]:
        """Return a student's lifecycle events, oldest first."""
        with self.placement.on(student_id) as db, db.sessions() as s:
            rows = s.scalars(select(LifecycleEvent).where(LifecycleEvent.student_id == student_id)
                             .order_by(LifecycleEvent.id))
            return [{"event": r.event, "thread_id": r.thread_id, "at": _iso(r.created_at)} for r in rows]

    def pause_idle(self, cutoff: datetime) -> list[dict[str, Any]]:
        """Pause active threads idle since before `cutoff`, on every database; record a `paused` event for each."""
        out: list[dict[str, Any]] = []
        for db in self.placement.databases():
            with db.sessions.begin() as s:
                rows = [r for r in s.scalars(select(LearningSession).where(
                    LearningSession.status == "active", LearningSession.last_active_at < cutoff).with_for_update())
                        if self.placement.settled(db, r.student_id)]
                for row in rows:
                    row.status = "paused"
                    s.add(LifecycleEvent(student_id=row.student_id, thread_id=row.thread_id, event="paused"))
                out += [_thread(r) for r in rows]
        return out

    def resume(self, thread_id: str) -> bool:
        """Mark a paused thread active again (recording `resumed`); return whether it was paused."""
        place: AbstractContextManager[Database] = nullcontext(self.placement.databases()[0])
        if self.router is not None:
            located = self._find_thread(thread_id)
            if located is None:
                return False
            place = self.placement.on(located[1]["student_id"])
        with place as db, db.sessions.begin() as s:
            result = s.execute(update(LearningSession).where(
                LearningSession.thread_id == thread_id, LearningSession.status == "paused"
            ).values(status="active", last_active_at=utcnow()).returning(LearningSession.student_id))
            student_id = result.scalar()
            if student_id is None:
                return False
            s.add(LifecycleEvent(student_id=student_id, thread_id=thread_id, event="resumed"))
            return True

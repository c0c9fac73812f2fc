"""Student data sharded by logical shard over several Postgres databases (docs/scale-plan.md).

A student's logical shard is `crc32(student_id) % 1000`; a small map in the directory database
(the `database_url` one, which keeps the global rows) says which physical database holds each
logical shard. Stores ask the router for the database of a student; with no shard settings there is
no router at all and every store uses its one sessionmaker, as before.

While a logical shard moves (state `moving` or `frozen`) every access to it takes a shared
transaction-level advisory lock on the directory and reads its map row afresh; the mover holds the
same lock exclusively while it copies the last delta and flips the map, so writers of that shard
wait (up to `shard_freeze_wait_s`, then `ShardBusy`: 503 + Retry-After) and then use the new
database. Transaction-level locks survive PgBouncer's transaction mode; session-level ones would not.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.db import engine_for as _engine_of_url
from tutormesh.core.errors import Misconfigured, TutorMeshError
from tutormesh.core.settings import Settings, get_settings

SHARDS = 1000
# Advisory lock keys: (namespace, logical shard). The namespace keeps them apart from other users.
LOCK_NAMESPACE = 0x54_4D  # "TM"
STATES = ("active", "moving", "frozen")
T = TypeVar("T")

# The directory's own tiny schema, created by `tutormesh shards init` (not an Alembic chain: it is
# three tables that only this module reads, and the shard databases must not get them).
directory_metadata = MetaData()
shard_databases = Table(
    "shard_databases", directory_metadata,
    Column("name", String(63), primary_key=True),
    # The environment variable holding the URL: passwords stay in the Secret, not in the map.
    Column("url_env", String(128), nullable=False),
    # Serial ids on this database start here, so rows keep their ids when a shard moves.
    Column("id_base", BigInteger, nullable=False),
)
shard_map = Table(
    "shard_map", directory_metadata,
    Column("logical", Integer, primary_key=True),
    Column("database", String(63), ForeignKey("shard_databases.name"), nullable=False),
    Column("state", String(8), nullable=False, server_default="active"),
    Column("epoch", Integer, nullable=False),
    CheckConstraint("logical BETWEEN 0 AND 999", name="ck_shard_map_logical"),
    CheckConstraint("state IN ('active', 'moving', 'frozen')", name="ck_shard_map_state"),
)


class ShardBusy(TutorMeshError):
    """The student's shard is being moved and stayed frozen past the wait: retry in a moment."""

    code, status = "unavailable", 503

    def __init__(self, message: str = "this student's data is being moved; retry shortly", *,
                 retry_after: int = 1) -> None:
        """Carry the seconds after which a retry should succeed."""
        super().__init__(message)
        self.retry_after = max(1, retry_after)


def logical_shard(student_id: str) -> int:
    """Return the student's logical shard, 0..999.

    Student ids are strings (UUID hex, or a name in the embedded demo), so `int(id) % 1000` is not
    defined for most of them; CRC-32 is stable across processes and Python versions (unlike `hash`)
    and spreads ids evenly.
    """
    return zlib.crc32(student_id.encode()) % SHARDS


def owned_id(student_id: str) -> str:
    """Return a new thread (or other student-owned) id that names its owner's logical shard."""
    return f"{uuid.uuid4().hex}-{logical_shard(student_id):03d}"


def logical_of_id(owned: str) -> int | None:
    """Return the logical shard encoded by `owned_id`, or None for an id without one."""
    head, sep, tail = owned.rpartition("-")
    return int(tail) if sep and head and len(tail) == 3 and tail.isdigit() else None


def url_env_of(name: str) -> str:
    """Return the environment variable that holds database `name`'s URL."""
    return f"TUTORMESH_SHARD_URL_{name.upper()}"


@dataclass(frozen=True)
class Database:
    """One physical shard database, as stores use it."""

    name: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]


@dataclass(frozen=True)
class ShardMap:
    """A snapshot of the directory's map: database and state per logical shard."""

    epoch: int
    database: tuple[str, ...]
    state: tuple[str, ...]


_scope: contextvars.ContextVar[str | None] = contextvars.ContextVar("tutormesh_shard_student", default=None)
# The shard whose move lock this context holds: nested store calls of one turn reuse it (a second
# shared request would queue behind a waiting mover and deadlock the turn with it).
_held: contextvars.ContextVar[tuple[int, Database] | None] = contextvars.ContextVar("tutormesh_shard_held",
                                                                                   default=None)


@contextmanager
def student_scope(student_id: str) -> Iterator[None]:
    """Route store calls keyed by a negotiation or thread id (not a student) to this student's shard."""
    token = _scope.set(student_id)
    try:
        yield
    finally:
        _scope.reset(token)


def scoped_student() -> str | None:
    """Return the student of the innermost `student_scope`, if any."""
    return _scope.get()


class ShardRouter:
    """Logical shard -> physical database, from the directory's map, cached per process."""

    def __init__(self, directory_url: str, *, ttl_s: float = 2.0, freeze_wait_s: float = 2.0,
                 environ: dict[str, str] | None = None) -> None:
        """Read the map from the directory at `directory_url`; URLs come from `environ` (os.environ)."""
        self.directory_url = directory_url
        self.directory = _engine_of_url(directory_url)
        self.ttl_s = ttl_s
        self.freeze_wait_s = freeze_wait_s
        self.environ = environ if environ is not None else os.environ
        self._lock = threading.Lock()
        self._map: ShardMap | None = None
        self._checked = 0.0
        self._databases: dict[str, Database] = {}
        self._savers: dict[str, Any] = {}
        self._saver_exits: list[AbstractContextManager[Any]] = []

    # -- the map ---------------------------------------------------------------------------
    def map(self) -> ShardMap:
        """Return the map, re-read when its epoch changed (checked at most every `ttl_s`)."""
        now = time.monotonic()
        current = self._map
        if current is not None and now - self._checked < self.ttl_s:
            return current
        with self._lock:
            if self._map is not None and now - self._checked < self.ttl_s:
                return self._map
            with self.directory.connect() as c:
                epoch = c.scalar(select(func.max(shard_map.c.epoch)))
                if epoch is None:
                    raise Misconfigured("the shard map is empty: run `tutormesh shards init`")
                if self._map is None or self._map.epoch != epoch:
                    rows = c.execute(select(shard_map.c.logical, shard_map.c.database, shard_map.c.state)
                                     .order_by(shard_map.c.logical)).all()
                    if len(rows) != SHARDS:
                        raise Misconfigured(f"the shard map has {len(rows)} rows, not {SHARDS}")
                    self._map = ShardMap(int(epoch), tuple(r.database for r in rows), tuple(r.state for r in rows))
            self._checked = time.monotonic()
            return self._map

    def refresh(self) -> ShardMap:
        """Re-read the map now (after a change made by this process)."""
        self._checked = 0.0
        return self.map()

    def database(self, name: str) -> Database:
        """Return the engine and session factory of the named physical database."""
        found = self._databases.get(name)
        if found is not None:
            return found
        with self._lock:
            if name not in self._databases:
                with self.directory.connect() as c:
                    env = c.scalar(select(shard_databases.c.url_env).where(shard_databases.c.name == name))
                if env is None:
                    raise Misconfigured(f"shard database {name!r} is not in the directory")
                url = self.environ.get(env, "")
                if not url:
                    raise Misconfigured(f"shard database {name!r}: set {env} to its URL")
                engine = _engine_of_url(url)
                self._databases[name] = Database(name, url, engine, sessionmaker(engine, expire_on_commit=False))
            return self._databases[name]

    def names(self) -> list[str]:
        """Return the databases that hold at least one logical shard, in name order."""
        return sorted(set(self.map().database))

    # -- routing -----------------------------------------------------------------------------
    def database_for(self, student_id: str) -> Database:
        """Return the database holding the student's rows now (no freeze protocol: for reads).

        Inside `using` for this student, the database that call holds (read from the map under the lock).
        """
        logical = logical_shard(student_id)
        held = _held.get()
        if held is not None and held[0] == logical:
            return held[1]
        return self.database(self.map().database[logical])

    def engine_for(self, student_id: str) -> Engine:
        """Return the engine of the student's database."""
        return self.database_for(student_id).engine

    def sessionmaker_for(self, student_id: str) -> sessionmaker[Session]:
        """Return the session factory of the student's database."""
        return self.database_for(student_id).sessions

    def using(self, student_id: str) -> AbstractContextManager[Database]:
        """Hold the student's database for one store call; during a move, wait for the flip.

        An active shard costs a dict lookup. A moving or frozen one holds a shared advisory lock on
        the directory for the call, so the mover's final copy never misses this call's writes.
        """
        return self.using_logical(logical_shard(student_id))

    def using_logical(self, logical: int) -> AbstractContextManager[Database]:
        """`using` for a logical shard (an id that names its shard, see `owned_id`)."""
        held = _held.get()
        if held is not None and held[0] == logical:
            return nullcontext(held[1])
        snapshot = self.map()
        if snapshot.state[logical] == "active":
            return nullcontext(self.database(snapshot.database[logical]))
        return self._guarded(logical)

    @contextmanager
    def _guarded(self, logical: int) -> Iterator[Database]:
        with self.directory.connect() as c:
            try:
                c.execute(text(f"SET LOCAL lock_timeout = '{int(self.freeze_wait_s * 1000)}ms'"))
                c.execute(select(func.pg_advisory_xact_lock_shared(LOCK_NAMESPACE, logical)))
            except OperationalError as exc:
                raise ShardBusy(retry_after=max(1, round(self.freeze_wait_s))) from exc
            name = c.scalar(select(shard_map.c.database).where(shard_map.c.logical == logical))
            db = self.database(str(name))
            token = _held.set((logical, db))
            try:
                yield db
            finally:
                _held.reset(token)
            c.commit()  # releases the lock only after the caller's transaction committed

    def using_scope(self) -> AbstractContextManager[Database]:
        """`using` for the student of the current `student_scope` (raises when there is none)."""
        student = scoped_student()
        if student is None:
            raise Misconfigured("sharded store call without a student: wrap it in student_scope()")
        return self.using(student)

    def group(self, student_ids: Sequence[str]) -> dict[str, list[str]]:
        """Split student ids by the database that holds them."""
        snapshot = self.map()
        out: dict[str, list[str]] = {}
        for sid in student_ids:
            out.setdefault(snapshot.database[logical_shard(sid)], []).append(sid)
        return out

    def fan_out(self, work: Callable[[Session], T], names: Sequence[str] | None = None) -> dict[str, T]:
        """Run the same read on every database (or `names`) and return its result per database."""
        out: dict[str, T] = {}
        for name in names if names is not None else self.names():
            with self.database(name).sessions() as s:
                out[name] = work(s)
        return out

    def for_students(self, student_ids: Sequence[str], work: Callable[[Session, list[str]], list[T]]) -> list[T]:
        """Run `work(session, ids)` on each database with the ids it holds; concatenate the results.

        Students of a shard being moved are read apart, under its lock (`using_logical`): the read waits
        out the freeze and goes to the database the map names then, never to a half-copied target or a
        source whose rows are about to be deleted.
        """
        snapshot = self.map()
        settled: dict[str, list[str]] = {}
        moving: dict[int, list[str]] = {}
        for sid in student_ids:
            logical = logical_shard(sid)
            if snapshot.state[logical] == "active":
                settled.setdefault(snapshot.database[logical], []).append(sid)
            else:
                moving.setdefault(logical, []).append(sid)
        out: list[T] = []
        for name, ids in settled.items():
            with self.database(name).sessions() as s:
                out.extend(work(s, ids))
        for logical, ids in moving.items():
            with self.using_logical(logical) as db, db.sessions() as s:
                out.extend(work(s, ids))
        return out

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpointer_for(self, student_id: str) -> Any:
        """Return the LangGraph Postgres saver of the student's database (one pool per database)."""
        return self.saver(self.database_for(student_id).name)

    def saver(self, name: str) -> Any:
        """Return (opening once) the Postgres saver of the named database."""
        found = self._savers.get(name)
        if found is not None:
            return found
        from tutormesh.core.checkpoints import open_postgres_saver

        with self._lock:
            if name not in self._savers:
                opened = open_postgres_saver(self.database(name).url)
                self._savers[name] = opened.__enter__()
                self._saver_exits.append(opened)
            return self._savers[name]

    def close(self) -> None:
        """Close the savers' pools (engines are process-wide and stay)."""
        with self._lock:
            for opened in reversed(self._saver_exits):
                opened.__exit__(None, None, None)
            self._saver_exits.clear()
            self._savers.clear()


class Placement:
    """Where one store's student rows live: its one database, or (sharded) each student's shard.

    The routing point of the stores other than the learner store: `on(student_id)` holds a
    student's database for one call, `on_owned(id)` finds the shard an `owned_id` names,
    `databases()` lists every database for a read over all of them, `for_students` reads a cohort.
    """

    def __init__(self, sessions: sessionmaker[Session], router: ShardRouter | None) -> None:
        """Place rows in `sessions`' database, or on the shards of `router` when there is one."""
        self.sessions = sessions
        self.router = router
        self._single = Database("single", "", sessions.kw["bind"], sessions)

    def on(self, student_id: str) -> AbstractContextManager[Database]:
        """The database of the student's rows, held for one call (waits out a move's freeze)."""
        return nullcontext(self._single) if self.router is None else self.router.using(student_id)

    def on_owned(self, owned: str) -> AbstractContextManager[Database] | None:
        """The database of a row keyed by `owned` (an `owned_id`, or under a `student_scope`); None: unknown."""
        if self.router is None:
            return nullcontext(self._single)
        if (logical := logical_of_id(owned)) is not None:
            return self.router.using_logical(logical)
        student = scoped_student()
        return None if student is None else self.router.using(student)

    def databases(self) -> list[Database]:
        """Every database that holds student rows (the one database when not sharded)."""
        if self.router is None:
            return [self._single]
        return [self.router.database(name) for name in self.router.names()]

    def for_students(self, ids: Sequence[str], work: Callable[[Session, list[str]], list[T]]) -> list[T]:
        """Run `work(session, ids)` where the students' rows are; concatenate the results."""
        if self.router is None:
            with self.sessions() as s:
                return work(s, list(ids))
        return self.router.for_students(ids, work)

    def gather(self, work: Callable[[Session], list[T]], student_of: Callable[[T], str] | None, *,
               logical_of: Callable[[T], int] | None = None) -> list[T]:
        """Run the read `work` on every database; keep each row only from its student's database.

        The staff views over student rows (review flags, a quiz's answers and submissions): a shard being
        moved has copies on two databases (the target while it fills, the source until its rows are
        deleted), and the map names the one that counts, so no row is missed or counted twice.
        `student_of` None: rows owned by no student (not moved), every database's are kept, unless
        `logical_of` names each row's logical shard (an aggregate grouped by shard, not by student).
        """
        if self.router is None:
            with self.sessions() as s:
                return work(s)
        shard_of = logical_of or (None if student_of is None else (lambda row: logical_shard(student_of(row))))
        snapshot = self.router.map()
        out: list[T] = []
        for name in sorted(set(snapshot.database)):
            with self.router.database(name).sessions() as s:
                out += [row for row in work(s) if shard_of is None or snapshot.database[shard_of(row)] == name]
        return out

    def settled(self, database: Database, student_id: str) -> bool:
        """Whether `database` is where the student's rows live and their shard is not being moved.

        Sweeps over every database write only such rows: a row of a moving shard is left for the
        next sweep rather than written behind the mover's back. A shard this call holds (`on`, during a
        move) counts as settled on the database held: its lock keeps the mover waiting.
        """
        if self.router is None:
            return True
        logical = logical_shard(student_id)
        held = _held.get()
        if held is not None and held[0] == logical:
            return held[1].name == database.name
        snapshot = self.router.map()
        return snapshot.database[logical] == database.name and snapshot.state[logical] == "active"


def lock_exclusive(c: Connection, logical: int, wait_s: float) -> None:
    """Take the shard's advisory lock exclusively for the rest of `c`'s transaction (the mover)."""
    c.execute(text(f"SET LOCAL lock_timeout = '{int(wait_s * 1000)}ms'"))
    c.execute(select(func.pg_advisory_xact_lock(LOCK_NAMESPACE, logical)))


_routers: dict[str, ShardRouter] = {}
_routers_lock = threading.Lock()


def get_router(settings: Settings | None = None) -> ShardRouter | None:
    """Return this process's router, or None when sharding is off (the single-database default)."""
    settings = settings or get_settings()
    if not settings.shard_databases:
        return None
    key = settings.sql_url
    with _routers_lock:
        if key not in _routers:
            if not key.startswith("postgresql"):
                raise Misconfigured("sharding needs a Postgres directory: set TUTORMESH_DATABASE_URL")
            _routers[key] = ShardRouter(key, ttl_s=settings.shard_map_ttl_s,
                                        freeze_wait_s=settings.shard_freeze_wait_s)
        return _routers[key]


def router_of(sessions: sessionmaker[Session], settings: Settings | None = None) -> ShardRouter | None:
    """Return the router when `sessions` is the configured directory of a sharded deployment, else None.

    Stores built over the directory (`AccountStore(sessionmaker_for(settings))`) route their
    student rows without each caller passing the router; a store over any other database does not.
    """
    settings = settings or get_settings()
    if not settings.shard_databases or make_url(settings.sql_url) != sessions.kw["bind"].url:
        return None
    return get_router(settings)

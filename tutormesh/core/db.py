"""SQL engine, sessions and migrations: one code path for SQLite and Postgres.

Statement parameters are never logged or put in exception messages (`hide_parameters`): they
hold answers, usernames and chat text. Embedded data files are private to the user running the
server (see `private_file`).
"""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def private_file(path: Path) -> Path:
    """Make `path` a file only its owner can read or write (0600), in a directory created 0700.

    Created before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
    A directory that already exists keeps its mode unless it is ours and not a shared sticky one
    (like /tmp).
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX and stat.S_IMODE(info.st_mode) & 0o077:
        folder.chmod(0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # made before this rule, e.g. 0644
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists() and stat.S_IMODE(side.stat().st_mode) & 0o077:
            side.chmod(0o600)
    return path


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and foreign keys so it behaves like a server database."""
    if url.startswith("sqlite"):
        if url != "sqlite://" and ":memory:" not in url:
            private_file(Path(url.removeprefix("sqlite:///")))
        # Pool sized for the API's worker threads (anyio runs 40 per process): a turn never waits
        # for a connection while another thread holds one, and an overload fails in 10 s, not 30.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=20,
                               max_overflow=30, pool_timeout=10, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No server-side prepared statements: behind PgBouncer in transaction mode the next transaction
    # may get another server connection, where the statement is missing or already taken.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, pool_timeout=10,
                         connect_args={"prepare_threshold": None}, hide_parameters=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes, fast commits
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """Return the process-wide engine of one database URL (its statements traced when tracing is on)."""
    from tutormesh.core.telemetry import traced_engine

    engine: Engine = traced_engine(make_engine(url))
    return engine


@lru_cache(maxsize=8)
def _sessionmaker_for(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


def sessionmaker_for(settings: Settings | None = None) -> sessionmaker[Session]:
    """Return the session factory of the configured database."""
    return _sessionmaker_for((settings or get_settings()).sql_url)


def migrate(url: str) -> None:
    """Apply every Alembic migration to the database at `url`."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with engine_for(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

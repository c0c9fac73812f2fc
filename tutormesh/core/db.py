"""SQL engine, sessions and migrations: one code path for SQLite and Postgres."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and foreign keys so it behaves like a server database."""
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # Pool sized for the API's worker threads (anyio runs 40 per process): a turn never waits
        # for a connection while another thread holds one, and an overload fails in 10 s, not 30.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=20,
                               max_overflow=30, pool_timeout=10)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No server-side prepared statements: behind PgBouncer in transaction mode the next transaction
    # may get another server connection, where the statement is missing or already taken.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, pool_timeout=10,
                         connect_args={"prepare_threshold": None})


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes, fast commits
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """Return the process-wide engine of one database URL."""
    return make_engine(url)


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

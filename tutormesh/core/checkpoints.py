"""LangGraph checkpointers: SqliteSaver embedded, PostgresSaver in production, one code path.

Graphs are exported without a checkpointer (LangGraph Studio brings its own); our runtime compiles
them with the saver opened here. Checkpoints stay bounded per thread: the state keeps a window of
messages (history lives in SQL), turns run with durability "exit" (one checkpoint per turn), and
`prune` keeps only the latest checkpoint of each thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from tutormesh.core.db import private_file
from tutormesh.core.settings import Settings, get_settings

# The inner table is aliased so that `{table}.checkpoint_ns` names the row being deleted: unaliased,
# inside `FROM checkpoints` it named the inner row, and the latest was taken across all namespaces.
_KEEP_LATEST = (
    "DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id NOT IN ("
    " SELECT MAX(latest.checkpoint_id) FROM checkpoints AS latest"
    " WHERE latest.thread_id = ? AND latest.checkpoint_ns = {table}.checkpoint_ns)"
)


class PrunableSqliteSaver(SqliteSaver):
    """SqliteSaver plus `prune(keep_latest)`, which upstream leaves unimplemented for SQLite.

    Safe here because no TutorMesh graph uses DeltaChannel (see the upstream docstring).
    """

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete all but the newest checkpoint per namespace (or everything with "delete")."""
        with self.cursor() as cur:
            for thread_id in thread_ids:
                if strategy == "delete":
                    cur.execute("DELETE FROM checkpoints WHERE thread_id = ?", (thread_id,))
                    cur.execute("DELETE FROM writes WHERE thread_id = ?", (thread_id,))
                    continue
                for table in ("checkpoints", "writes"):
                    cur.execute(_KEEP_LATEST.format(table=table), (thread_id, thread_id))


def libpq_url(url: str) -> str:
    """Turn an SQLAlchemy Postgres URL into the libpq form psycopg expects."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def open_postgres_saver(url: str) -> Iterator[PostgresSaver]:
    """Open a Postgres saver on its own pool, create its tables, and close the pool on exit."""
    # prepare_threshold=None keeps it working behind PgBouncer (langgraph issue 5675).
    with ConnectionPool(
        libpq_url(url),
        min_size=1,
        max_size=8,
        kwargs={"autocommit": True, "prepare_threshold": None, "row_factory": dict_row},
        # Test a pooled connection before handing it out: after a database restart or failover
        # the pool would otherwise fail one turn per dead connection it holds (measured: up to 8).
        check=ConnectionPool.check_connection,
        open=True,
    ) as pool:
        pg_saver = PostgresSaver(pool)  # type: ignore[arg-type]
        pg_saver.setup()
        yield pg_saver


@contextmanager
def open_checkpointer(settings: Settings | None = None) -> Iterator[BaseCheckpointSaver[str]]:
    """Open the configured saver, create its tables, and close it on exit.

    Sharded (docs/scale-plan.md): checkpoints live on each student's shard database, and the
    runtime takes the saver from `ShardRouter.checkpointer_for`; this one stays the saver of
    threads without a student (none in the student graph).
    """
    settings = settings or get_settings()
    url = settings.checkpoints_url
    if url.startswith("postgresql"):
        with open_postgres_saver(url) as pg_saver:
            yield pg_saver
        return
    private_file(Path(url))
    conn = sqlite3.connect(url, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        saver = PrunableSqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()

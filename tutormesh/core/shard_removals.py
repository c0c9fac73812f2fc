"""The removal log a shard move reads: keys of student-owned rows deleted on its source database.

A move's catch-up copy finds the rows written since the previous copy by their `xmin`; a deleted
row leaves nothing to find. Migration 0011 gives each student-owned table a statement trigger that
logs the deleted rows' primary keys (as JSON, with the deleting transaction's 64-bit id) into
`shard_removals`, but only while a move holds the database's capture lock exclusively
(`capturing`): otherwise the trigger takes that lock shared for its transaction and logs nothing,
so outside a move a delete costs one lock and no write. Because a logging-free deleter holds the
lock until it commits, the move's exclusive lock is granted only once every such delete is
committed, hence visible to the move's first snapshot; every later one is logged. Lock-based, so it
holds whatever the deleter's isolation level. docs/scale-plan.md ("Shard move") has the figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text
from sqlalchemy.exc import OperationalError

from tutormesh.core.errors import Conflict, Invalid
from tutormesh.core.shards import LOCK_NAMESPACE

# Advisory locks of a shard database (the directory's freeze locks use (LOCK_NAMESPACE, 0..999)).
# The trigger function of migration 0011 names CAPTURE_LOCK as literals: change both together.
CAPTURE_LOCK, MOVER_LOCK = (LOCK_NAMESPACE, 1000), (LOCK_NAMESPACE, 1001)
TRIGGER = "shard_removals"


def _trigger_sql(table: str, key: Sequence[str]) -> str:
    args = ", ".join("'" + column.replace("'", "''") + "'" for column in key)
    return (f'CREATE TRIGGER {TRIGGER} AFTER DELETE ON "{table}" REFERENCING OLD TABLE AS removed '
            f"FOR EACH STATEMENT EXECUTE FUNCTION shard_log_removals({args})")


def install_removal_triggers(c: Connection, tables: Sequence[str]) -> list[str]:
    """Give each of `tables` present on this database the trigger that logs its removed keys.

    Migration 0011 covers the tables it finds; the LangGraph saver creates the checkpoint tables
    after the migrations, so `tutormesh db upgrade`, `shards init` and every move call this too.
    Returns the tables that got the trigger now.

    Raises:
        Invalid: the database has no removal log (not migrated to head).
    """
    inspector = inspect(c)
    if not inspector.has_table("shard_removals"):
        raise Invalid("this shard database has no removal log: run `tutormesh db upgrade` first")
    have = set(c.scalars(text("SELECT r.relname FROM pg_trigger AS t JOIN pg_class AS r ON r.oid = t.tgrelid "
                              "WHERE t.tgname = :name AND r.relnamespace = current_schema()::regnamespace"),
                         {"name": TRIGGER}))
    added = []
    for table in tables:
        if table not in have and inspector.has_table(table):
            c.execute(text(_trigger_sql(table, inspector.get_pk_constraint(table)["constrained_columns"])))
            added.append(table)
    return added


@contextmanager
def capturing(engine: Engine, name: str, tables: Sequence[str], wait_s: float) -> Iterator[None]:
    """Log the removals on database `name` while the block runs (the move from it).

    Holds the capture lock in an open transaction that never writes (it takes no transaction id,
    so it holds back neither the snapshots' xmin the copies follow nor vacuum). Clears the log
    when it starts (an earlier move's leftovers) and when it ends, before releasing the lock.

    Raises:
        Conflict: another move from this database is under way.
        Invalid: a transaction that deleted owned rows did not end within `wait_s`.
    """
    with engine.begin() as c:
        install_removal_triggers(c, tables)
    with engine.connect() as held:
        if not held.scalar(select(func.pg_try_advisory_xact_lock(*MOVER_LOCK))):
            raise Conflict(f"another shard move from {name!r} is under way; wait for it to finish")
        held.execute(text(f"SET LOCAL lock_timeout = '{int(wait_s * 1000)}ms'"))
        try:
            held.execute(select(func.pg_advisory_xact_lock(*CAPTURE_LOCK)))
        except OperationalError as exc:
            raise Invalid(f"a transaction on {name!r} that deleted student rows is still open after "
                          f"{wait_s:.0f} s; retry the move") from exc
        with engine.begin() as c:
            c.execute(text("DELETE FROM shard_removals"))
        try:
            yield
        finally:
            with engine.begin() as c:
                c.execute(text("DELETE FROM shard_removals"))
            held.rollback()


def removed_since(src: Connection, since: int) -> dict[str, list[dict[str, Any]]]:
    """Keys logged by transactions at or above id `since` and visible to `src`'s snapshot, per table.

    `since` is the previous copy's snapshot xmin: a delete by a transaction below it was visible
    to that copy (the same bound as `shard_ops._written_since`). An index range scan: the work
    follows what was deleted since, not the shard's size.
    """
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for table, key in src.execute(text("SELECT table_name, key FROM shard_removals WHERE txid >= :since"),
                                  {"since": since}):
        found.setdefault(table, {})[json.dumps(key, sort_keys=True)] = key
    return {table: list(keys.values()) for table, keys in found.items()}


def delete_removed(src: Connection, dst: Connection, table: Table, where: str, ids: list[str],
                   keys: list[dict[str, Any]]) -> int:
    """Delete from the target the logged `keys` the source's snapshot no longer holds; return how many.

    A key written again since its removal (a row deleted and inserted anew) is on the source and
    stays: the copy brings its new version. On the target only rows of the moving shard's students
    (`where` over `:ids`) are deleted, whatever else the source's log holds.
    """
    pk = [c.name for c in table.primary_key.columns]
    match = " AND ".join(f't."{c}" = k."{c}"' for c in pk)
    absent = [key for (key,) in src.execute(text(
        f'SELECT r.key FROM jsonb_array_elements(CAST(:keys AS jsonb)) AS r(key) WHERE NOT EXISTS '
        f'(SELECT 1 FROM "{table.name}" AS t, jsonb_populate_record(NULL::"{table.name}", r.key) AS k '
        f"WHERE {match})"), {"keys": json.dumps(keys)})]
    if not absent:
        return 0
    columns = ", ".join(f'"{c}"' for c in pk)
    picked = ", ".join(f'k."{c}"' for c in pk)
    return int(dst.execute(text(
        f'DELETE FROM "{table.name}" WHERE ({columns}) IN (SELECT {picked} FROM '
        f'jsonb_populate_recordset(NULL::"{table.name}", CAST(:keys AS jsonb)) AS k) AND ({where})'),
        {"keys": json.dumps(absent), "ids": ids}).rowcount)

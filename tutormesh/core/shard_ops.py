"""Operating the shard map: init, status and the online move of one logical shard.

Which rows belong to a student is declared once, in `OWNED_TABLES` (parents before children); the
move copies exactly those and the checkpoint tables. A new student-owned table joins with one line
there, plus routing its store's calls through `ShardRouter.using(student_id)`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, bindparam, delete, func, insert, select, text, update

from tutormesh.core.errors import Invalid
from tutormesh.core.shard_removals import capturing, delete_removed, removed_since
from tutormesh.core.shards import (
    SHARDS,
    ShardRouter,
    directory_metadata,
    lock_exclusive,
    logical_shard,
    shard_databases,
    shard_map,
    url_env_of,
)

# Serial ids of database number n start at n * ID_STRIDE: ids stay unique across databases, so a
# moved row keeps its id. The columns are 32-bit today, hence 21 databases of 100M ids each.
ID_STRIDE = 100_000_000
# Catch-up copies before the freeze: at most this many, stopping once one copies this few rows or
# no fewer than the one before (each copy's work follows the rows written during the previous one).
CATCH_UP_PASSES, CAUGHT_UP = 8, 200
# Longer than any write transaction plus the clock skew between hosts (`created_at` is the writer's clock).
SKEW = timedelta(seconds=60)
_SUBMISSIONS = "submission_id IN (SELECT id FROM submissions WHERE student_id = ANY(:ids))"
_THREADS = "thread_id IN (SELECT thread_id FROM learning_sessions WHERE student_id = ANY(:ids))"


@dataclass(frozen=True)
class OwnedTable:
    """A table whose rows live on their student's shard.

    Attributes:
        name: the table.
        where: SQL selecting the rows of the students in the array parameter `:ids`.
        append_key: the key of an append-only table (None: rows change in place); informational,
            a delta treats both kinds alike.
        recent: no longer read (a delta follows the rows' `xmin`, see `_copy_delta`); kept only
            until the grades entry below stops passing it.
    """

    name: str
    where: str
    append_key: str | None = None
    recent: str = "created_at >= :since"


OWNED_TABLES: tuple[OwnedTable, ...] = (
    OwnedTable("students", "id = ANY(:ids)"),
    OwnedTable("profiles", "student_id = ANY(:ids)"),
    OwnedTable("curriculum_plans", "student_id = ANY(:ids)"),
    OwnedTable("mastery", "student_id = ANY(:ids)"),
    OwnedTable("attempts", "student_id = ANY(:ids)", "id"),
    OwnedTable("grades", "attempt_id IN (SELECT id FROM attempts WHERE student_id = ANY(:ids))", "attempt_id",
               "attempt_id IN (SELECT id FROM attempts WHERE created_at >= :since)"),
    OwnedTable("negotiations", "student_id = ANY(:ids)"),
    OwnedTable("negotiation_messages",
               "negotiation_id IN (SELECT id FROM negotiations WHERE student_id = ANY(:ids))", "id"),
    OwnedTable("learning_sessions", "student_id = ANY(:ids)"),
    OwnedTable("thread_messages", _THREADS, "id"),
    OwnedTable("engagement", "student_id = ANY(:ids)", "id"),
    OwnedTable("adaptations", "student_id = ANY(:ids)", "id"),
    OwnedTable("reflections", "student_id = ANY(:ids)"),  # applied_at changes after insert: row by row
    OwnedTable("lifecycle_events", "student_id = ANY(:ids)", "id"),
    OwnedTable("escalations", "student_id = ANY(:ids)"),  # claimed and resolved in place
    OwnedTable("llm_ledger", "student_id = ANY(:ids)", "id"),
    OwnedTable("llm_budgets", "student_id = ANY(:ids)"),
    OwnedTable("llm_cost_alerts", "student_id = ANY(:ids)", "id"),
    # Quiz submissions and what grading wrote for them (the quizzes stay in the directory, copied to each
    # shard). Scores, flags and delivery times change in place, so all are compared row by row.
    OwnedTable("submissions", "student_id = ANY(:ids)"),
    OwnedTable("submission_results", _SUBMISSIONS),
    OwnedTable("question_results", _SUBMISSIONS),
    OwnedTable("review_flags", _SUBMISSIONS),
    OwnedTable("assessment_events", "student_id = ANY(:ids)"),
    OwnedTable("event_receipts", "event_id IN (SELECT id FROM assessment_events WHERE student_id = ANY(:ids))"),
    # LangGraph's saver tables (bounded per thread by pruning, so compared row by row).
    OwnedTable("checkpoints", _THREADS),
    OwnedTable("checkpoint_blobs", _THREADS),
    OwnedTable("checkpoint_writes", _THREADS),
)


# -- init and status ---------------------------------------------------------------------------
def init_directory(router: ShardRouter, names: Sequence[str]) -> bool:
    """Create the directory tables, register `names` and fill an empty map round-robin.

    Returns whether the map was filled (False: it existed; new names are only registered).
    """
    directory_metadata.create_all(router.directory)
    with router.directory.begin() as c:
        known = {r.name: r.id_base for r in c.execute(select(shard_databases))}
        next_base = max(known.values(), default=0) + ID_STRIDE
        for name in names:
            if name not in known:
                c.execute(insert(shard_databases).values(name=name, url_env=url_env_of(name), id_base=next_base))
                next_base += ID_STRIDE
        if c.scalar(select(func.count()).select_from(shard_map)):
            return False
        c.execute(insert(shard_map), [{"logical": n, "database": names[n % len(names)], "state": "active",
                                       "epoch": 1} for n in range(SHARDS)])
        return True


def set_id_base(c: Connection, base: int) -> None:
    """Start every serial sequence of a shard database at `base` (if it is still below)."""
    for (seq,) in c.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")):
        c.execute(text("SELECT setval(:seq, :base, false) WHERE (SELECT last_value FROM "
                       f'"{seq}") < :base'), {"seq": seq, "base": base})


def id_base(router: ShardRouter, name: str) -> int:
    """Return the first serial id of the named database."""
    with router.directory.connect() as c:
        base = c.scalar(select(shard_databases.c.id_base).where(shard_databases.c.name == name))
    if base is None:
        raise Invalid(f"unknown shard database {name!r}")
    return int(base)


def _runs(numbers: list[int]) -> list[str]:
    """Compress sorted numbers into arithmetic runs: [0, 2, 4, 5] -> ['0-4/2', '5']."""
    out: list[str] = []
    i = 0
    while i < len(numbers):
        j, step = i, (numbers[i + 1] - numbers[i]) if i + 1 < len(numbers) else 1
        while j + 1 < len(numbers) and numbers[j + 1] - numbers[j] == step:
            j += 1
        if j - i >= 2 or (j == i + 1 and step == 1):
            out.append(f"{numbers[i]}-{numbers[j]}" + (f"/{step}" if step != 1 else ""))
            i = j + 1
        else:
            out.append(str(numbers[i]))
            i += 1
    return out


@dataclass
class DatabaseStatus:
    """What `tutormesh shards status` prints for one database."""

    name: str
    url_env: str
    logical: list[int] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ranges(self) -> str:
        """The logical shards as compressed runs."""
        return ", ".join(_runs(self.logical)) or "-"


def status(router: ShardRouter, tables: Sequence[str] = ("students", "attempts", "checkpoints")) -> dict[str, Any]:
    """Return the map's epoch, logical shards per database, rows per database and non-active shards."""
    snapshot = router.refresh()
    with router.directory.connect() as c:
        envs = {r.name: r.url_env for r in c.execute(select(shard_databases).order_by(shard_databases.c.name))}
    per = {name: DatabaseStatus(name, env) for name, env in envs.items()}
    for logical, name in enumerate(snapshot.database):
        per[name].logical.append(logical)
    for item in per.values():
        with router.database(item.name).engine.connect() as c:
            for table in tables:
                item.rows[table] = int(c.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)
    busy = {n: (state, snapshot.database[n]) for n, state in enumerate(snapshot.state) if state != "active"}
    return {"epoch": snapshot.epoch, "databases": list(per.values()), "busy": busy}


# -- the online move --------------------------------------------------------------------------
@dataclass
class MoveReport:
    """What a move did and how long the shard's writers paused."""

    logical: int
    source: str
    target: str
    students: int = 0
    copied: int = 0
    caught_up: int = 0
    delta: int = 0
    deleted: int = 0
    pause_s: float = 0.0
    total_s: float = 0.0


def _tables(conn: Connection) -> dict[str, Table]:
    meta = MetaData()
    meta.reflect(conn, only=[t.name for t in OWNED_TABLES])
    return dict(meta.tables)


def _student_ids(conn: Connection, logical: int, since: datetime | None = None) -> list[str]:
    """Ids of the logical shard's students on one database (the hash is computed here, not in SQL)."""
    query = "SELECT id FROM students" + (" WHERE created_at >= :since" if since else "")
    return [sid for (sid,) in conn.execute(text(query), {"since": since}) if logical_shard(sid) == logical]


def _rows(conn: Connection, table: Table, spec: OwnedTable, ids: list[str]) -> list[Any]:
    if not ids:
        return []
    return list(conn.execute(select(table).where(text(spec.where).bindparams(ids=ids))))


def _insert(conn: Connection, table: Table, rows: list[Any]) -> int:
    if rows:
        conn.execute(insert(table), [dict(r._mapping) for r in rows])
    return len(rows)


def _delete_owned(conn: Connection, tables: dict[str, Table], ids: list[str]) -> int:
    gone = 0
    for spec in reversed(OWNED_TABLES):
        if spec.name in tables and ids:
            gone += conn.execute(delete(tables[spec.name]).where(text(spec.where).bindparams(ids=ids))).rowcount
    return gone


def _snapshot(src: Connection) -> tuple[int, int]:
    """Start the source transaction's snapshot; return its xmin and xmax (64-bit transaction ids).

    Every transaction below xmin had ended when the snapshot was taken: a row version written by
    one of them was already visible to it (or aborted). Called first, so it is the copy's snapshot.
    """
    row = src.execute(text("SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint "
                           "FROM pg_current_snapshot() AS s")).one()
    return int(row[0]), int(row[1])


def _written_since(conn: Connection, table: Table, spec: OwnedTable, ids: list[str], since: int,
                   xmax: int) -> list[Any]:
    """The rows of `ids` whose current version a transaction at or above id `since` wrote.

    `xmin` is the 32-bit id of the row version's writer; its distance below this snapshot's `xmax`
    gives its 64-bit id (exact for any recent writer: older versions can only add false positives).
    A previous snapshot's xmin, not its in-progress list, bounds the window: that list omits
    subtransaction ids, and a version written before the bound was in the previous copy.
    """
    if not ids:
        return []
    written = (f"(:xmax % 4294967296 - \"{table.name}\".xmin::text::bigint + 4294967296) % 4294967296"
               " <= :xmax - :since")
    query = select(table).where(text(f"({spec.where}) AND {written}").bindparams(ids=ids, since=since, xmax=xmax))
    return list(conn.execute(query))


def _copy_delta(src: Connection, dst: Connection, tables: dict[str, Table], ids: list[str],
                since: int, xmax: int) -> int:
    """Bring the target's rows of `ids` from the previous copy's source snapshot up to this one.

    The last one runs while the shard's writers wait, so its work follows what changed since the
    previous copy (`since`: that snapshot's xmin), not the shard's size: the keys deleted since are
    read from the removal log (`shard_removals`) and deleted on the target, then the row versions
    written since are fetched and inserted or updated there.
    """
    changed = 0
    present = [s for s in OWNED_TABLES if s.name in tables]
    pks = {s.name: [c.name for c in tables[s.name].primary_key.columns] for s in present}
    fresh = {s.name: _written_since(src, tables[s.name], s, ids, since, xmax) for s in present}
    removed = removed_since(src, since)
    for spec in reversed(present):  # removals first, children before parents
        if removed.get(spec.name):
            changed += delete_removed(src, dst, tables[spec.name], spec.where, ids, removed[spec.name])
    for spec in present:
        table, pk, rows = tables[spec.name], pks[spec.name], fresh[spec.name]
        there = _present_keys(dst, table, [tuple(r._mapping[c] for c in pk) for r in rows])
        changed += _insert(dst, table, [r for r in rows if tuple(r._mapping[c] for c in pk) not in there])
        changed_rows = [r for r in rows if tuple(r._mapping[c] for c in pk) in there]
        others = [c for c in table.columns if c.name not in pk]
        if changed_rows and others:
            # UPDATE, not delete + insert: a deleted parent row would cascade to its children.
            stmt = update(table).where(*[table.c[c] == bindparam(f"pk_{c}") for c in pk]).values(
                {c.name: bindparam(f"v_{c.name}") for c in others})
            dst.execute(stmt, [{**{f"pk_{c}": r._mapping[c] for c in pk},
                                **{f"v_{c.name}": r._mapping[c.name] for c in others}} for r in changed_rows])
            changed += len(changed_rows)
    return changed


def _present_keys(conn: Connection, table: Table, keys: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """Those of `keys` that `table` holds.

    Looked up by the key's first column (`= ANY`, an index scan): Postgres scans the whole table
    for a list of composite keys.
    """
    if not keys:
        return set()
    columns = list(table.primary_key.columns)
    wanted = set(keys)
    firsts = list({k[0] for k in keys})
    query = select(*columns).where(columns[0].in_(bindparam("firsts", expanding=True)))
    return {tuple(r) for n in range(0, len(firsts), 10_000)
            for r in conn.execute(query, {"firsts": firsts[n:n + 10_000]})} & wanted


def _copy_and_flip(router: ShardRouter, logical: int, source: Engine, target: Engine, report: MoveReport,
                   lock_wait_s: float, log: Callable[[str], None]) -> tuple[dict[str, Table], list[str]]:
    """Steps 2 and 3 of `move`: the bulk copy, the catch-up copies, the freeze and the flip."""
    copy_started = datetime.now(UTC) - SKEW
    # One snapshot of the source per copy: a child row never arrives without its parent.
    snapshot = source.execution_options(isolation_level="REPEATABLE READ")
    with snapshot.connect() as src, target.begin() as dst:
        since, _ = _snapshot(src)
        tables = _tables(dst)
        ids = _student_ids(src, logical)
        _delete_owned(dst, tables, ids)  # a crashed earlier attempt's rows
        for spec in OWNED_TABLES:
            if spec.name in tables:
                report.copied += _insert(dst, tables[spec.name], _rows(src, tables[spec.name], spec, ids))
        src.rollback()
    log(f"shard {logical}: copied {report.copied} rows of {len(ids)} students")
    known = set(ids)

    def add_new_students(src: Connection) -> None:
        new = [sid for sid in _student_ids(src, logical, copy_started) if sid not in known]
        ids.extend(new)
        known.update(new)

    previous = report.copied
    for _ in range(CATCH_UP_PASSES):  # writes go on meanwhile; each pass is shorter than the one before
        with snapshot.connect() as src, target.begin() as dst:
            taken, xmax = _snapshot(src)
            add_new_students(src)
            caught = _copy_delta(src, dst, tables, ids, since, xmax)
            src.rollback()
        since = taken
        report.caught_up += caught
        log(f"shard {logical}: caught up {caught} rows")
        if caught <= CAUGHT_UP or caught >= previous:
            break
        previous = caught
    log(f"shard {logical}: freezing")
    _set_state(router, logical, "frozen")
    with router.directory.begin() as lock:
        lock_exclusive(lock, logical, lock_wait_s)
        paused = time.monotonic()
        with snapshot.connect() as src, target.begin() as dst:
            _, xmax = _snapshot(src)
            add_new_students(src)
            report.delta = _copy_delta(src, dst, tables, ids, since, xmax)
            src.rollback()
        _flip(lock, logical, report.target, "active")
        report.pause_s = time.monotonic() - paused  # the commit below releases the writers
    return tables, ids


def move(router: ShardRouter, logical: int, target: str, *, settle_s: float | None = None,
         lock_wait_s: float = 30.0, log: Callable[[str], None] = lambda _line: None) -> MoveReport:
    """Move logical shard `logical` to database `target` while its students keep working.

    1. mark it `moving` (epoch + 1) and wait `settle_s` (two map TTLs) so every process guards it;
    2. copy its rows and checkpoints to the target (writes continue on the source), then copy what
       changed meanwhile, up to `CATCH_UP_PASSES` times, so the last delta is small;
    3. mark it `frozen`, take its lock exclusively (writers wait), copy the delta, point the map at
       the target (`active`, epoch + 1) and commit: the writers resume, on the target;
    4. wait `settle_s` again (readers with an old map) and delete the rows from the source.
    From step 1 to the flip the source logs its removals (`shard_removals.capturing`), so each
    copy deletes exactly the keys removed since the one before; one move at a time reads a
    database's removals (another one from the same source raises Conflict). Rerunning after a
    crash is safe: the target's rows of the shard are replaced from scratch.
    """
    if not 0 <= logical < SHARDS:
        raise Invalid(f"logical shard must be 0..{SHARDS - 1}")
    settle = 2 * router.ttl_s if settle_s is None else settle_s
    source = router.refresh().database[logical]
    if target == source:
        raise Invalid(f"logical shard {logical} is already on {target!r}")
    dst_db, src_db = router.database(target), router.database(source)
    report = MoveReport(logical, source, target)
    started = time.monotonic()
    # Removals on the source are logged from here until the flip (shard_removals.py).
    with capturing(src_db.engine, source, [t.name for t in OWNED_TABLES], lock_wait_s):
        _set_state(router, logical, "moving")
        log(f"shard {logical}: moving {source} -> {target}; waiting {settle:.1f}s for every process to see it")
        time.sleep(settle)
        tables, ids = _copy_and_flip(router, logical, src_db.engine, dst_db.engine, report, lock_wait_s, log)
    report.students = len(ids)
    router.refresh()
    log(f"shard {logical}: on {target} (pause {report.pause_s * 1000:.0f} ms, delta {report.delta} rows);"
        f" deleting from {source} in {settle:.1f}s")
    time.sleep(settle)
    with src_db.engine.begin() as src:
        report.deleted = _delete_owned(src, tables, ids)
    report.total_s = time.monotonic() - started
    return report


def _flip(c: Connection, logical: int, database: str | None, state: str) -> None:
    epoch = int(c.scalar(select(func.max(shard_map.c.epoch))) or 0) + 1
    values: dict[str, Any] = {"state": state, "epoch": epoch}
    if database is not None:
        values["database"] = database
    c.execute(update(shard_map).where(shard_map.c.logical == logical).values(**values))


def _set_state(router: ShardRouter, logical: int, state: str) -> None:
    with router.directory.begin() as c:
        _flip(c, logical, None, state)
    router.refresh()

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

from sqlalchemy import Connection, MetaData, Table, bindparam, delete, func, insert, select, text, tuple_, update

from tutormesh.core.errors import Invalid
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
# Catch-up copies before the freeze: at most this many, stopping once one copies this few rows.
CATCH_UP_PASSES, CAUGHT_UP = 3, 200
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
        append_key: the key of an append-only table: a delta copies the rows whose keys the
            target lacks. None: rows change in place, compared by a digest of each row.
        recent: of an append-only table, SQL keeping the rows written since `:since`: a delta
            compares only those (see `_copy_delta`).
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


def _digests(conn: Connection, table: Table, spec: OwnedTable, ids: list[str],
             since: datetime) -> dict[tuple[Any, ...], str]:
    """Primary key -> md5 of the whole row, for the rows of `ids` (append-only: keys of rows since `since`).

    Computed in each database, so two copies are compared without fetching their rows.
    """
    if not ids:
        return {}
    pk = [c.name for c in table.primary_key.columns]
    columns = ", ".join(f't."{c}"' for c in pk)
    digest, where = ("''", f"({spec.where}) AND ({spec.recent})") if spec.append_key else ("md5(t::text)",
                                                                                         spec.where)
    rows = conn.execute(text(f'SELECT {columns}, {digest} FROM "{table.name}" AS t WHERE {where}'),
                        {"ids": ids, "since": since})
    return {tuple(r[:-1]): str(r[-1]) for r in rows}


def _by_keys(conn: Connection, table: Table, keys: list[tuple[Any, ...]]) -> list[Any]:
    key = tuple_(*table.primary_key.columns)
    return [r for n in range(0, len(keys), 1000) for r in conn.execute(select(table).where(key.in_(keys[n:n + 1000])))]


def _copy_delta(src: Connection, dst: Connection, tables: dict[str, Table], ids: list[str],
                since: datetime) -> int:
    """Bring the target's rows of `ids` up to the source's: appended rows, changed and removed ones.

    The last one runs while the shard's writers wait, so rows are compared by key and digest
    (computed in each database) and only the rows that differ are fetched. Append-only rows are
    compared by key, not by a high-water mark (a serial id taken before a snapshot may commit
    after it), and only those written since `since`: the start of the previous copy's snapshot
    less `SKEW`, before which every row written had committed and was copied by then.
    """
    changed = 0
    present = [s for s in OWNED_TABLES if s.name in tables]
    digests = {s.name: (_digests(src, tables[s.name], s, ids, since), _digests(dst, tables[s.name], s, ids, since))
               for s in present}
    mutable = [s for s in present if s.append_key is None]
    for spec in reversed(mutable):  # removals first, children before parents
        table = tables[spec.name]
        have, there = digests[spec.name]
        stale = [k for k in there if k not in have]
        for n in range(0, len(stale), 1000):
            changed += dst.execute(delete(table).where(tuple_(*table.primary_key.columns).in_(
                stale[n:n + 1000]))).rowcount
    for spec in OWNED_TABLES:
        if spec.name not in tables:
            continue
        table = tables[spec.name]
        have, there = digests[spec.name]
        changed += _insert(dst, table, _by_keys(src, table, [k for k in have if k not in there]))
        changed_rows = [] if spec.append_key else _by_keys(
            src, table, [k for k, d in have.items() if k in there and there[k] != d])
        if changed_rows:
            # UPDATE, not delete + insert: a deleted parent row would cascade to its children.
            pk = [c.name for c in table.primary_key.columns]
            others = [c for c in table.columns if c.name not in pk]
            stmt = update(table).where(*[table.c[c] == bindparam(f"pk_{c}") for c in pk]).values(
                {c.name: bindparam(f"v_{c.name}") for c in others})
            dst.execute(stmt, [{**{f"pk_{c}": r._mapping[c] for c in pk},
                                **{f"v_{c.name}": r._mapping[c.name] for c in others}} for r in changed_rows])
            changed += len(changed_rows)
    return changed


def move(router: ShardRouter, logical: int, target: str, *, settle_s: float | None = None,
         lock_wait_s: float = 30.0, log: Callable[[str], None] = lambda _line: None) -> MoveReport:
    """Move logical shard `logical` to database `target` while its students keep working.

    1. mark it `moving` (epoch + 1) and wait `settle_s` (two map TTLs) so every process guards it;
    2. copy its rows and checkpoints to the target (writes continue on the source), then copy what
       changed meanwhile, up to `CATCH_UP_PASSES` times, so the last delta is small;
    3. mark it `frozen`, take its lock exclusively (writers wait), copy the delta, point the map at
       the target (`active`, epoch + 1) and commit: the writers resume, on the target;
    4. wait `settle_s` again (readers with an old map) and delete the rows from the source.
    Rerunning after a crash is safe: the target's rows of the shard are replaced from scratch.
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
    _set_state(router, logical, "moving")
    log(f"shard {logical}: moving {source} -> {target}; waiting {settle:.1f}s for every process to see it")
    time.sleep(settle)
    copy_started = since = datetime.now(UTC) - SKEW
    # One snapshot of the source per copy: a child row never arrives without its parent.
    snapshot = src_db.engine.execution_options(isolation_level="REPEATABLE READ")
    with snapshot.connect() as src, dst_db.engine.begin() as dst:
        tables = _tables(dst)
        ids = _student_ids(src, logical)
        _delete_owned(dst, tables, ids)  # a crashed earlier attempt's rows
        for spec in OWNED_TABLES:
            if spec.name in tables:
                report.copied += _insert(dst, tables[spec.name], _rows(src, tables[spec.name], spec, ids))
        src.rollback()
    log(f"shard {logical}: copied {report.copied} rows of {len(ids)} students")
    for _ in range(CATCH_UP_PASSES):  # writes go on meanwhile; each pass is shorter than the one before
        pass_started = datetime.now(UTC) - SKEW
        with snapshot.connect() as src, dst_db.engine.begin() as dst:
            ids.extend(sid for sid in _student_ids(src, logical, copy_started) if sid not in set(ids))
            caught = _copy_delta(src, dst, tables, ids, since)
            src.rollback()
        since = pass_started
        report.caught_up += caught
        log(f"shard {logical}: caught up {caught} rows")
        if caught <= CAUGHT_UP:
            break
    log(f"shard {logical}: freezing")
    _set_state(router, logical, "frozen")
    with router.directory.begin() as lock:
        lock_exclusive(lock, logical, lock_wait_s)
        paused = time.monotonic()
        with snapshot.connect() as src, dst_db.engine.begin() as dst:
            new = [sid for sid in _student_ids(src, logical, copy_started) if sid not in set(ids)]
            ids.extend(new)
            report.delta = _copy_delta(src, dst, tables, ids, since)
            src.rollback()
        _flip(lock, logical, target, "active")
        report.pause_s = time.monotonic() - paused  # the commit below releases the writers
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

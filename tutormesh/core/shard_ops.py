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
_THREADS = "thread_id IN (SELECT thread_id FROM learning_sessions WHERE student_id = ANY(:ids))"


@dataclass(frozen=True)
class OwnedTable:
    """A table whose rows live on their student's shard.

    Attributes:
        name: the table.
        where: SQL selecting the rows of the students in the array parameter `:ids`.
        append_key: an ever-growing column (serial id) for append-only tables: the final copy
            takes only rows above the first copy's high-water mark. None: compared row by row.
    """

    name: str
    where: str
    append_key: str | None = None


OWNED_TABLES: tuple[OwnedTable, ...] = (
    OwnedTable("students", "id = ANY(:ids)"),
    OwnedTable("profiles", "student_id = ANY(:ids)"),
    OwnedTable("curriculum_plans", "student_id = ANY(:ids)"),
    OwnedTable("mastery", "student_id = ANY(:ids)"),
    OwnedTable("attempts", "student_id = ANY(:ids)", "id"),
    OwnedTable("grades", "attempt_id IN (SELECT id FROM attempts WHERE student_id = ANY(:ids))", "attempt_id"),
    OwnedTable("negotiations", "student_id = ANY(:ids)"),
    OwnedTable("negotiation_messages",
               "negotiation_id IN (SELECT id FROM negotiations WHERE student_id = ANY(:ids))", "id"),
    OwnedTable("learning_sessions", "student_id = ANY(:ids)"),
    OwnedTable("thread_messages", _THREADS, "id"),
    OwnedTable("engagement", "student_id = ANY(:ids)", "id"),
    OwnedTable("adaptations", "student_id = ANY(:ids)", "id"),
    OwnedTable("reflections", "student_id = ANY(:ids)"),  # applied_at changes after insert: row by row
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


def _rows(conn: Connection, table: Table, spec: OwnedTable, ids: list[str], above: Any = None) -> list[Any]:
    if not ids:
        return []
    query = select(table).where(text(spec.where).bindparams(ids=ids))
    if above is not None and spec.append_key:
        query = query.where(table.c[spec.append_key] > above)
    return list(conn.execute(query))


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


def _copy_delta(src: Connection, dst: Connection, tables: dict[str, Table], ids: list[str],
                marks: dict[str, Any]) -> int:
    """Bring the target's rows of `ids` up to the source's: appended rows, changed and removed ones."""
    changed = 0
    mutable = [s for s in OWNED_TABLES if s.name in tables and s.append_key is None]
    for spec in reversed(mutable):  # removals first, children before parents
        table = tables[spec.name]
        key = tuple_(*table.primary_key.columns)
        have = {tuple(r._mapping[c.name] for c in table.primary_key.columns) for r in _rows(src, table, spec, ids)}
        there = [tuple(r._mapping[c.name] for c in table.primary_key.columns) for r in _rows(dst, table, spec, ids)]
        stale = [k for k in there if k not in have]
        if stale:
            changed += dst.execute(delete(table).where(key.in_(stale))).rowcount
    for spec in OWNED_TABLES:
        if spec.name not in tables:
            continue
        table = tables[spec.name]
        if spec.append_key is not None:
            changed += _insert(dst, table, _rows(src, table, spec, ids, marks.get(spec.name)))
            continue
        pk = [c.name for c in table.primary_key.columns]
        theirs = {tuple(r._mapping[c] for c in pk): tuple(r) for r in _rows(dst, table, spec, ids)}
        new_rows, changed_rows = [], []
        for r in _rows(src, table, spec, ids):
            found = theirs.get(tuple(r._mapping[c] for c in pk))
            if found is None:
                new_rows.append(r)
            elif found != tuple(r):
                changed_rows.append(r)
        changed += _insert(dst, table, new_rows)
        if changed_rows:
            # UPDATE, not delete + insert: a deleted parent row would cascade to its children.
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
    2. copy its rows and checkpoints to the target (writes continue on the source);
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
    copy_started = datetime.now(UTC) - timedelta(seconds=60)  # covers clock skew between hosts
    # One snapshot of the source per copy: a child row never arrives without its parent.
    snapshot = src_db.engine.execution_options(isolation_level="REPEATABLE READ")
    with snapshot.connect() as src, dst_db.engine.begin() as dst:
        tables = _tables(dst)
        ids = _student_ids(src, logical)
        _delete_owned(dst, tables, ids)  # a crashed earlier attempt's rows
        marks: dict[str, Any] = {}
        for spec in OWNED_TABLES:
            if spec.name in tables:
                rows = _rows(src, tables[spec.name], spec, ids)
                report.copied += _insert(dst, tables[spec.name], rows)
                if spec.append_key and rows:
                    marks[spec.name] = max(r._mapping[spec.append_key] for r in rows)
        src.rollback()
    log(f"shard {logical}: copied {report.copied} rows of {len(ids)} students; freezing")
    _set_state(router, logical, "frozen")
    with router.directory.begin() as lock:
        lock_exclusive(lock, logical, lock_wait_s)
        paused = time.monotonic()
        with snapshot.connect() as src, dst_db.engine.begin() as dst:
            new = [sid for sid in _student_ids(src, logical, copy_started) if sid not in set(ids)]
            ids.extend(new)
            report.delta = _copy_delta(src, dst, tables, ids, marks)
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

"""The online move of one logical shard: rows moved, how long it took, how long its writers paused.

Creates a scratch directory and two shard databases on the Postgres at --postgres-url (dropped at the
end unless --keep), runs `tutormesh shards init`, then fills ONE logical shard with --students
students' rows as a term of practice leaves them (profile, plan, mastery per skill, attempts with
grades and engagement signals, the thread and its messages, a negotiation with its messages, an
adaptation, a checkpoint of about 2 KB per thread). While `shard_ops.move` takes that shard from
database a to b, --writers threads keep recording practice answers for its students through the
learner store (the router, the freeze and ShardBusy as the API uses them), and one control writer
does the same for a shard that stays on a. With --deleters N, N more threads delete filled attempts
of those students (each with its grade, by cascade) through the router, as a prune or an erase
would. Afterwards every acknowledged answer is counted on b: writes lost or doubled must be 0, and
no deleted attempt may be left on b.

    python benchmarks/bench_shard_move.py [--students 10000] [--writers 4] [--deleters 0] [--logical 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import psycopg
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import Connection

from tutormesh.core.models import (
    AdaptationRow,
    Attempt,
    CurriculumPlan,
    Engagement,
    Grade,
    LearningSession,
    LedgerEntry,
    LifecycleEvent,
    Mastery,
    Negotiation,
    NegotiationMessageRow,
    Profile,
    Student,
    ThreadMessage,
)
from tutormesh.core.shards import ShardBusy, ShardRouter, logical_shard

SKILLS = ("order-of-operations", "evaluating-expressions", "combining-like-terms")
ATTEMPTS = 8  # per student: with their grades and engagement rows
GRADE = {"correct": True, "reason": "ok", "feedback": "well done"}
ITEM = {"id": "math.order-of-operations.d1", "skill": "order-of-operations", "difficulty": 1}
BATCH = 500  # students per insert batch


def _admin(url: str, sql: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(sql)


def _students_of(logical: int, n: int, salt: str) -> list[str]:
    out: list[str] = []
    k = 0
    while len(out) < n:
        sid = f"{salt}{k:08d}"
        if logical_shard(sid) == logical:
            out.append(sid)
        k += 1
    return out


def _fill(engine: Engine, students: list[str], id_base: int) -> int:
    """Insert a term's rows for each student in batches; return the rows written."""
    now = datetime.now(UTC)
    blob = json.dumps({"v": 1, "channel_values": {"messages": ["practice " * 20] * 10}})
    rows = 0
    next_id = id_base + 1
    for start in range(0, len(students), BATCH):
        batch = students[start:start + BATCH]
        tables: dict[object, list[dict[str, object]]] = {m: [] for m in (
            Student, Profile, CurriculumPlan, Mastery, Attempt, Grade, Engagement, LearningSession, ThreadMessage,
            Negotiation, NegotiationMessageRow, AdaptationRow, LifecycleEvent, LedgerEntry)}
        checkpoints = []
        for sid in batch:
            thread = f"t-{sid}"
            tables[Student].append({"id": sid, "name": sid})
            tables[Profile].append({"student_id": sid})
            tables[CurriculumPlan].append({"student_id": sid, "subject": "math", "start_date": date(2026, 9, 1),
                                           "pace": "moderate", "adjustments": [], "difficulty_ramp": False})
            tables[Mastery] += [{"student_id": sid, "skill": s, "p_known": 0.4, "attempts": 3, "correct": 2,
                                 "streak": 1, "fail_streak": 0, "updated_at": now} for s in SKILLS]
            tables[LearningSession].append({"thread_id": thread, "student_id": sid, "turns": ATTEMPTS,
                                            "status": "active", "started_at": now, "last_active_at": now})
            for k in range(ATTEMPTS):
                aid, next_id = next_id, next_id + 1
                tables[Attempt].append({"id": aid, "student_id": sid, "thread_id": thread, "item_id": ITEM["id"],
                                        "skill": ITEM["skill"], "difficulty": 1, "answer": f"fill-{k}",
                                        "p_known_before": 0.3, "p_known_after": 0.4, "created_at": now})
                tables[Grade].append({"attempt_id": aid, "correct": k % 2 == 0, "reason": "ok",
                                      "feedback": "well done", "grader": "symbolic", "confidence": 1.0})
                tables[Engagement].append({"student_id": sid, "thread_id": thread, "skill": ITEM["skill"],
                                           "item_id": ITEM["id"], "difficulty": 1, "shown_before": ["worked"],
                                           "correct": k % 2 == 0, "reason": "ok", "seconds": 30.0, "idle_s": 0.0,
                                           "hints_used": 0, "retry": False, "streak": 1, "created_at": now})
                tables[ThreadMessage] += [
                    {"thread_id": thread, "role": "user", "content": f"x = {k}", "created_at": now},
                    {"thread_id": thread, "role": "assistant", "content": "Correct! Next one.", "created_at": now}]
            tables[Negotiation].append({"id": f"n-{sid}", "student_id": sid, "thread_id": thread, "subject": "math",
                                        "skill": ITEM["skill"], "kind": "pace", "status": "committed", "rounds": 1})
            tables[NegotiationMessageRow] += [{"negotiation_id": f"n-{sid}", "seq": n, "type": t, "sender": "student",
                                               "payload": {"type": t}} for n, t in enumerate(("PROPOSE", "ACCEPT",
                                                                                              "COMMIT"))]
            tables[AdaptationRow].append({"student_id": sid, "kind": "pace", "before": "moderate", "after": "slow",
                                          "reason": "three misses in a row", "created_at": now})
            tables[LifecycleEvent].append({"student_id": sid, "thread_id": thread, "event": "spawned",
                                           "created_at": now})
            tables[LedgerEntry] += [{"student_id": sid, "model": "gpt-4o-mini", "purpose": "explain",
                                     "tokens_in": 400, "tokens_out": 150, "cost_usd": 0.00015, "day": date(2026, 11, d),
                                     "month": "2026-11", "created_at": now} for d in (3, 4)]
            checkpoints.append({"thread_id": thread, "checkpoint_ns": "", "checkpoint_id": f"c-{sid}",
                                "type": "json", "checkpoint": blob, "metadata": "{}"})
        with engine.begin() as c:
            for model, values in tables.items():
                if values:
                    c.execute(insert(model), values)  # type: ignore[call-overload, arg-type]
                    rows += len(values)
            c.execute(text("INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, type, checkpoint, "
                           "metadata) VALUES (:thread_id, :checkpoint_ns, :checkpoint_id, :type, "
                           "CAST(:checkpoint AS jsonb), CAST(:metadata AS jsonb))"), checkpoints)
            rows += len(checkpoints)
    with engine.begin() as c:  # the serial columns continue after the explicit ids
        c.execute(text("SELECT setval(pg_get_serial_sequence('attempts', 'id'), (SELECT max(id) FROM attempts))"))
    return rows


@dataclass
class Writer:
    """Practice answers for some students, each acknowledged one timed and remembered."""

    store: object
    students: list[str]
    tag: str
    acked: dict[str, int] = field(default_factory=dict)
    spans: list[tuple[float, float]] = field(default_factory=list)
    busy: int = 0
    errors: int = 0

    def run(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            sid = self.students[n % len(self.students)]
            start = time.monotonic()
            try:
                self.store.record_practice(  # type: ignore[attr-defined]
                    student_id=sid, thread_id=f"t-{sid}", item=ITEM, answer=f"{self.tag}-{n}", grade=GRADE,
                    p_before=0.4, p_after=0.5, reply="ok")
            except ShardBusy:
                self.busy += 1
                continue
            except Exception:  # noqa: BLE001 - counted: an unacknowledged write of unknown outcome
                self.errors += 1
                time.sleep(0.05)
                continue
            self.spans.append((start, time.monotonic()))
            self.acked[sid] = self.acked.get(sid, 0) + 1
            n += 1


@dataclass
class Deleter:
    """Deletes filled attempts (and so their grades) of some students, remembering each acknowledged one."""

    router: ShardRouter
    students: list[str]
    deleted: list[int] = field(default_factory=list)
    busy: int = 0

    def run(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            sid = self.students[n % len(self.students)]
            try:
                with self.router.using(sid) as db, db.engine.begin() as c:
                    gone = c.scalar(text("DELETE FROM attempts WHERE id = (SELECT min(id) FROM attempts WHERE "
                                         "student_id = :sid AND answer LIKE 'fill-%') RETURNING id"), {"sid": sid})
            except ShardBusy:
                self.busy += 1
                continue
            if gone is not None:
                self.deleted.append(int(gone))
            n += 1
            time.sleep(0.005)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _count(c: Connection, sql: str, **params: object) -> int:
    return int(c.scalar(text(sql), params) or 0)


def main() -> int:
    """Run one move under load and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--deleters", type=int, default=0, help="threads deleting filled attempts meanwhile")
    parser.add_argument("--logical", type=int, default=4, help="the logical shard to fill and move (even: on a)")
    parser.add_argument("--postgres-url", default=os.environ.get("TUTORMESH_TEST_POSTGRES_URL",
                                                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--prefix", default=f"shardmove_{uuid.uuid4().hex[:6]}")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()
    base = args.postgres_url.rpartition("/")[0]
    urls = {n: f"{base}/{args.prefix}_{n}" for n in ("dir", "a", "b")}
    for url in urls.values():
        _admin(args.postgres_url, f'CREATE DATABASE "{url.rpartition("/")[2]}"')
    try:
        return _run(args, urls)
    finally:
        if not args.keep:
            from tutormesh.core.db import engine_for

            engine_for.cache_clear()
            for url in urls.values():
                _admin(args.postgres_url, f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


def _run(args: argparse.Namespace, urls: dict[str, str]) -> int:
    os.environ.update({"TUTORMESH_DATABASE_URL": urls["dir"], "TUTORMESH_SHARD_DATABASES": "a,b",
                       "TUTORMESH_SHARD_URL_A": urls["a"], "TUTORMESH_SHARD_URL_B": urls["b"],
                       "TUTORMESH_LLM_ENABLED": "false", "TUTORMESH_JWT_SECRET": "bench-" * 8})
    from tutormesh.cli import main as cli
    from tutormesh.core.settings import get_settings
    from tutormesh.core.shard_ops import id_base, move
    from tutormesh.tools.store import get_store

    get_settings.cache_clear()
    settings = get_settings()
    assert cli(["shards", "init", "--databases", "a,b"]) == 0
    store = get_store(settings)
    mover = ShardRouter(urls["dir"], ttl_s=settings.shard_map_ttl_s, freeze_wait_s=settings.shard_freeze_wait_s)
    source = mover.refresh().database[args.logical]
    target = "b" if source == "a" else "a"
    students = _students_of(args.logical, args.students, "m")
    control = _students_of((args.logical + 2) % 1000, 20, "c")  # another shard on the same source database
    direct = {n: create_engine(u) for n, u in urls.items()}
    started = time.monotonic()
    filled = _fill(direct[source], students + control, id_base(mover, source))
    print(f"filled logical shard {args.logical} on {source}: {len(students)} students, {filled:,} rows "
          f"in {time.monotonic() - started:.1f} s")
    per = max(1, len(students) // args.writers)
    writers = [Writer(store, students[k * per:(k + 1) * per], f"w{k}") for k in range(args.writers)]
    writers.append(Writer(store, control, "ctl"))
    assert store.router is not None
    deleters = [Deleter(store.router, students[k::args.deleters]) for k in range(args.deleters)]
    stop = threading.Event()
    runs = [w.run for w in writers] + [d.run for d in deleters]
    threads = [threading.Thread(target=run, args=(stop,)) for run in runs]
    for t in threads:
        t.start()
    marks: dict[str, float] = {}

    def log(line: str) -> None:
        print(f"  {line}")
        if "freezing" in line:
            marks["frozen"] = time.monotonic()
        elif "pause" in line:
            marks["flipped"] = time.monotonic()

    time.sleep(1.0)
    report = move(mover, args.logical, target, log=log)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    movers, ctl = writers[:-1], writers[-1]
    latencies = [e - s for w in movers for s, e in w.spans]
    frozen = [e - s for w in movers for s, e in w.spans if e >= marks["frozen"] and s <= marks["flipped"]]
    ctl_frozen = [e - s for s, e in ctl.spans if e >= marks["frozen"] and s <= marks["flipped"]]
    ends = sorted(e for w in movers for _, e in w.spans)
    gap = max((b - a for a, b in zip(ends, ends[1:], strict=False)), default=0.0)  # no write acknowledged
    acked = {sid: n for w in movers for sid, n in w.acked.items()}
    with direct[target].connect() as c:
        rows = c.execute(text("SELECT student_id, count(*), count(DISTINCT answer) FROM attempts "
                              "WHERE answer NOT LIKE 'fill-%' AND student_id = ANY(:ids) GROUP BY student_id"),
                         {"ids": students}).all()
        moved_attempts = _count(c, "SELECT count(*) FROM attempts WHERE student_id = ANY(:ids) "
                                   "AND answer LIKE 'fill-%'", ids=students)
        deleted = [aid for d in deleters for aid in d.deleted]
        survived = _count(c, "SELECT count(*) FROM attempts WHERE id = ANY(:ids)", ids=deleted)
        survived += _count(c, "SELECT count(*) FROM grades WHERE attempt_id = ANY(:ids)", ids=deleted)
    with direct[source].connect() as c:
        left = _count(c, "SELECT count(*) FROM attempts WHERE student_id = ANY(:ids)", ids=students)
    found = {sid: (n, distinct) for sid, n, distinct in rows}
    # Lost: acknowledged but not on the target. Doubled: an answer stored twice. Unacknowledged: stored,
    # though the writer saw an error (only possible when `errors` is not 0).
    lost = sum(max(0, n - found.get(sid, (0, 0))[1]) for sid, n in acked.items())
    doubled = sum(n - distinct for n, distinct in found.values())
    unacknowledged = sum(max(0, distinct - acked.get(sid, 0)) for sid, (_, distinct) in found.items())
    print(f"moved shard {args.logical} {source} -> {target}: {report.students} students, "
          f"{report.copied + report.caught_up + report.delta:,} rows ({report.copied:,} in the bulk copy, "
          f"{report.caught_up:,} in catch-up copies, {report.delta} in the final delta under the freeze), "
          f"{report.deleted:,} deleted from {source}")
    print(f"move duration {report.total_s:.1f} s in all (two settle waits of {2 * mover.ttl_s:.1f} s included); "
          f"freeze (lock held) {report.pause_s * 1000:.0f} ms")
    print(f"writers on the moving shard: {len(latencies)} acknowledged writes, p50 "
          f"{statistics.median(latencies) * 1000:.1f} ms; during the freeze {len(frozen)} writes, max "
          f"{max(frozen, default=0) * 1000:.0f} ms, p95 {_pct(frozen, 0.95) * 1000:.0f} ms; "
          f"ShardBusy (503 after {mover.freeze_wait_s:.0f} s) {sum(w.busy for w in movers)}, errors "
          f"{sum(w.errors for w in movers)}; longest time with no write acknowledged {gap * 1000:.0f} ms")
    print(f"control writer (a shard staying on {source}): {len(ctl.spans)} writes, {len(ctl_frozen)} during "
          f"the freeze, max {max(ctl_frozen, default=0) * 1000:.0f} ms")
    if deleters:
        print(f"deleters: {len(deleted)} filled attempts deleted during the move, ShardBusy "
              f"{sum(d.busy for d in deleters)}; deleted attempts or grades left on {target}: {survived}")
    expected = len(students) * ATTEMPTS - len(deleted)
    print(f"verified on {target}: {moved_attempts:,} filled attempts (expected {expected:,}), "
          f"{sum(n for n, _ in found.values())} written during the run; on {source}: {left} left; "
          f"writes lost {lost}, doubled {doubled}, stored but unacknowledged {unacknowledged}")
    ok = lost == 0 and doubled == 0 and left == 0 and moved_attempts == expected and survived == 0
    for engine in direct.values():
        engine.dispose()
    if store.router is not None:
        store.router.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

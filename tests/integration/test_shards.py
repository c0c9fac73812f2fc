"""Sharded student data on real Postgres databases behind PgBouncer (transaction mode).

One cluster per module: a directory and shards `a` and `b`, created as `shards_<random>_*` and
dropped afterwards. Under CI a missing Postgres or PgBouncer fails these tests (conftest).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text

from tests.conftest import POSTGRES_URL, _use, service_missing
from tests.factories import make_draft
from tests.pgbouncer import pgbouncer, pgbouncer_url  # noqa: F401  (fixtures)
from tutormesh.cli import main
from tutormesh.content import publish
from tutormesh.core import shard_ops
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Conflict
from tutormesh.core.settings import Settings
from tutormesh.core.shard_ops import OWNED_TABLES, move
from tutormesh.core.shard_removals import TRIGGER, capturing
from tutormesh.core.shards import ShardBusy, ShardRouter, logical_shard, owned_id, student_scope
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.core.stores.content import ContentStore
from tutormesh.graphs.runtime import open_tutor
from tutormesh.server import dashboards
from tutormesh.tools.store import get_store

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
TODAY = date(2026, 10, 5)
NOW = "2026-10-05T10:00:00+00:00"
ITEM = {"id": "math.order-of-operations.d1", "skill": "order-of-operations", "difficulty": 1}
GRADE = {"correct": True, "reason": "ok", "feedback": "well done"}
MOVING, STAYING = 4, 6  # both on database a after a two-database round-robin fill


@dataclass
class Cluster:
    """The databases of one test module: names, URLs through PgBouncer, and direct engines."""

    prefix: str
    urls: dict[str, str]
    direct: dict[str, Engine] = field(default_factory=dict)


def _admin(sql: str) -> None:
    with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True,
                         connect_timeout=5) as conn:
        conn.execute(sql)


@pytest.fixture(scope="module")
def cluster(pgbouncer: str) -> Iterator[Cluster]:  # noqa: F811
    """Create the directory and two shard databases for this module; drop them afterwards."""
    prefix = f"shards_{uuid.uuid4().hex[:8]}"
    names = ("dir", "a", "b")
    try:
        for name in names:
            _admin(f'CREATE DATABASE "{prefix}_{name}"')
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", exc)
    base = POSTGRES_URL.rpartition("/")[0]
    found = Cluster(prefix, {n: f"postgresql+psycopg://postgres@{pgbouncer}/{prefix}_{n}" for n in names})
    found.direct = {n: create_engine(f"{base}/{prefix}_{n}") for n in names}
    try:
        yield found
    finally:
        for engine in found.direct.values():
            engine.dispose()
        from tutormesh.core import shards
        from tutormesh.core.db import _sessionmaker_for, engine_for

        shards._routers.clear()
        _sessionmaker_for.cache_clear()
        engine_for.cache_clear()
        for name in names:
            _admin(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')


@pytest.fixture
def sharded(cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Settings:
    """Settings of a sharded deployment on the cluster (map TTL 0.2 s), initialised once."""
    monkeypatch.setenv("TUTORMESH_SHARD_URL_A", cluster.urls["a"])
    monkeypatch.setenv("TUTORMESH_SHARD_URL_B", cluster.urls["b"])
    settings = _use(monkeypatch, data_dir=str(tmp_path), database_url=cluster.urls["dir"], shard_databases="a,b",
                    shard_map_ttl_s="0.2", shard_freeze_wait_s="5", llm_enabled="false", jwt_secret="x" * 32)
    with cluster.direct["dir"].connect() as c:
        ready = c.scalar(text("SELECT to_regclass('shard_map') IS NOT NULL"))
    if not ready:
        assert main(["shards", "init", "--databases", "a,b"]) == 0
    return settings


def _student(logical: int) -> str:
    while True:
        sid = f"s-{uuid.uuid4().hex[:12]}"
        if logical_shard(sid) == logical:
            return sid


def _count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as c:
        return int(c.scalar(text(sql), params) or 0)


def test_a_student_rows_and_checkpoints_live_on_their_shard(sharded: Settings, cluster: Cluster) -> None:
    store = get_store(sharded)
    on_a, on_b = _student(10), _student(11)  # even logical shards are on a, odd ones on b
    with open_tutor(sharded) as tutor:
        for sid in (on_a, on_b):
            thread = owned_id(sid)
            tutor.send(sid, thread, "I want to practice linear equations", now=NOW)
            tutor.send(sid, thread, "x = 3", now=NOW)
            assert tutor.state(thread)["messages"]  # found from the id alone
    for sid, home, other in ((on_a, "a", "b"), (on_b, "b", "a")):
        sql = "SELECT count(*) FROM mastery WHERE student_id = :sid"
        assert _count(cluster.direct[home], sql, sid=sid) > 0
        assert _count(cluster.direct[other], sql, sid=sid) == 0
        ck = "SELECT count(*) FROM checkpoints WHERE thread_id IN (SELECT thread_id FROM learning_sessions " \
             "WHERE student_id = :sid)"
        assert _count(cluster.direct[home], ck, sid=sid) > 0
        assert _count(cluster.direct[other], "SELECT count(*) FROM learning_sessions WHERE student_id = :sid",
                      sid=sid) == 0
        # The directory keeps only the registry row (names, global foreign keys), no learner model.
        assert _count(cluster.direct["dir"], "SELECT count(*) FROM students WHERE id = :sid", sid=sid) == 1
        assert _count(cluster.direct["dir"], "SELECT count(*) FROM profiles WHERE student_id = :sid", sid=sid) == 0
    assert store.student_id_by_name(on_b) == on_b


def test_status_prints_ranges_and_rows_per_database(sharded: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    get_store(sharded).ensure_student(_student(20))
    assert main(["shards", "status"]) == 0
    out = capsys.readouterr().out
    assert "shard map epoch" in out and "all shards active" in out
    assert "shards 0-998/2" in out and "shards 1-999/2" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line[:2] in ("a ", "b ")}
    assert set(lines) == {"a", "b"}
    assert int(lines["a"][1]) + int(lines["b"][1]) == 1000
    assert int(lines["a"][2]) >= 1  # students on a


def test_cohort_heatmap_fans_out_over_shards(sharded: Settings) -> None:
    store = get_store(sharded)
    accounts = AccountStore(store.sessions)
    cohort = f"c{uuid.uuid4().hex[:6]}"
    members = [_student(30), _student(31), _student(33)]  # a, b, b
    for n, sid in enumerate(members):
        store.ensure_student(sid)
        store.set_mastery(sid, ITEM["skill"], 0.1 * (n + 1))
        user = accounts.create_user(f"u{n}{cohort}", "x", "student", cohort)
        with store.sessions.begin() as s:
            s.execute(text("UPDATE users SET student_id = :sid WHERE id = :uid"), {"sid": sid, "uid": user["id"]})
    with store.sessions() as s:
        view = dashboards.heatmap(s, cohort, router=store.router)
    got = {row["student_id"]: row["mastery"] for row in view["students"]}
    assert [s["slug"] for s in view["skills"]] == [ITEM["skill"]]
    assert got == {sid: [round(0.1 * (n + 1), 3)] for n, sid in enumerate(members)}


@dataclass
class Writer:
    """A loop of practice writes for some students, counting what was acknowledged."""

    store: object
    students: list[str]
    done: dict[str, int] = field(default_factory=dict)
    busy: int = 0
    stamps: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of acknowledged writes

    def run(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            sid = self.students[n % len(self.students)]
            start = time.monotonic()
            try:
                self.store.record_practice(  # type: ignore[attr-defined]
                    student_id=sid, thread_id=f"t-{sid}", item=ITEM, answer=f"w{n}", grade=GRADE,
                    p_before=0.1, p_after=0.2, reply="ok")
            except ShardBusy:
                self.busy += 1
                time.sleep(0.05)
                continue
            self.stamps.append((start, time.monotonic()))
            self.done[sid] = self.done.get(sid, 0) + 1
            n += 1


def test_online_move_under_load_loses_and_doubles_nothing(sharded: Settings, cluster: Cluster) -> None:
    store = get_store(sharded)
    movers, stayers = [_student(MOVING) for _ in range(12)], [_student(STAYING) for _ in range(4)]
    for sid in movers + stayers:
        store.ensure_student(sid)
        store.plan(sid, "math", today=TODAY)
    turn_student = movers[0]
    thread = owned_id(turn_student)
    writers = [Writer(store, movers[1:]), Writer(store, stayers)]
    turns = {"ok": 0}
    stop = threading.Event()

    def practice_turns() -> None:  # real graph turns: checkpoints and SQL on the moving shard
        with open_tutor(sharded) as tutor:
            tutor.send(turn_student, thread, "I want to practice linear equations", now=NOW)
            while not stop.is_set():
                try:
                    tutor.send(turn_student, thread, "x = 3", now=NOW)
                    turns["ok"] += 1
                except ShardBusy:
                    time.sleep(0.05)

    threads = [threading.Thread(target=w.run, args=(stop,)) for w in writers]
    threads.append(threading.Thread(target=practice_turns))
    for t in threads:
        t.start()
    marks: dict[str, float] = {}

    def log(line: str) -> None:
        marks["frozen" if "freezing" in line else "flipped" if "pause" in line else line[:20]] = time.monotonic()

    time.sleep(0.5)
    mover = ShardRouter(cluster.urls["dir"], ttl_s=0.2)
    report = move(mover, MOVING, "b", settle_s=0.5, log=log)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    print(f"move: {report}; writes moving={sum(writers[0].done.values())} busy={writers[0].busy} "
          f"staying={sum(writers[1].done.values())} busy={writers[1].busy} turns={turns['ok']}")
    assert report.source == "a" and report.target == "b" and report.students == len(movers)
    a, b = cluster.direct["a"], cluster.direct["b"]
    for sid, count in writers[0].done.items():
        assert _count(b, "SELECT count(*) FROM attempts WHERE student_id = :sid", sid=sid) == count
        assert _count(b, "SELECT count(DISTINCT answer) FROM attempts WHERE student_id = :sid", sid=sid) == count
        assert _count(b, "SELECT count(*) FROM thread_messages WHERE thread_id = :t", t=f"t-{sid}") == 2 * count
        assert _count(b, "SELECT attempts FROM mastery WHERE student_id = :sid", sid=sid) == count
    for sid in movers:
        for table in ("students", "profiles", "attempts", "learning_sessions", "mastery"):
            column = "id" if table == "students" else "student_id"
            assert _count(a, f"SELECT count(*) FROM {table} WHERE {column} = :sid", sid=sid) == 0
    assert _count(b, "SELECT count(*) FROM checkpoints WHERE thread_id = :t", t=thread) >= 1
    assert _count(a, "SELECT count(*) FROM checkpoints WHERE thread_id = :t", t=thread) == 0
    assert turns["ok"] >= 1
    assert _count(b, "SELECT count(*) FROM attempts WHERE student_id = :sid", sid=turn_student) == turns["ok"]
    for sid, count in writers[1].done.items():  # the other shard, on the same source database
        assert _count(a, "SELECT count(*) FROM attempts WHERE student_id = :sid", sid=sid) == count
    assert writers[1].busy == 0
    # The staying shard kept writing while the moving one was frozen.
    inside = [s for s, e in writers[1].stamps if marks["frozen"] <= s and e <= marks["flipped"]]
    assert inside or report.pause_s < 0.05
    with student_scope(turn_student):
        assert store.router is not None and store.router.database_for(turn_student).name == "b"
    # Reset for reruns in the same module: move it back.
    move(mover, MOVING, "a", settle_s=0.5)
    assert _count(a, "SELECT count(*) FROM attempts WHERE student_id = :sid", sid=turn_student) == turns["ok"]


def test_published_content_reaches_every_shard_so_students_there_can_practise_it(sharded: Settings,
                                                                                  cluster: Cluster) -> None:
    get_store(sharded)
    draft = make_draft(slug="deck-sharded")
    store = ContentStore(sessionmaker_for(sharded))
    job, _ = store.open_job(sha256="a" * 64, file_name="d.md", size=1, subject="math", cohort=None,
                            created_by="admin", deck=draft.deck.model_dump(mode="json"))
    assert store.claim(job["id"]) is not None
    store.finish(job["id"], draft.model_dump(mode="json"))
    publish.publish(sharded, job["id"], by="admin", cohort=None)
    for name in ("dir", "a", "b"):
        assert _count(cluster.direct[name], "SELECT count(*) FROM skills WHERE slug = 'deck-sharded'") == 1, name
    on_b = _student(11)
    with open_tutor(sharded) as tutor:
        thread = owned_id(on_b)
        tutor.send(on_b, thread, "I want to practice unit rates, price per kilogram", now=NOW)
        tutor.send(on_b, thread, "x = 3", now=NOW)
    assert _count(cluster.direct["b"], "SELECT count(*) FROM mastery WHERE student_id = :sid AND skill = "
                  "'deck-sharded'", sid=on_b) == 1
    assert _count(cluster.direct["dir"], "SELECT count(*) FROM content_versions") >= 1
    assert _count(cluster.direct["a"], "SELECT count(*) FROM content_versions") == 0  # content lives in the directory


def test_a_move_carries_rows_changed_and_removed_between_its_copies(sharded: Settings, cluster: Cluster) -> None:
    """A delta copies the row versions written since the previous copy and drops the removed ones."""
    store = get_store(sharded)
    kept, edited, removed, late = (_student(8) for _ in range(4))
    for sid in (kept, edited, removed, late):
        store.ensure_student(sid)
        store.set_mastery(sid, ITEM["skill"], 0.1)
    a, b = cluster.direct["a"], cluster.direct["b"]

    def log(line: str) -> None:
        if "copied" in line:  # after the bulk copy, before the catch-up copies
            with a.begin() as c:
                c.execute(text("DELETE FROM mastery WHERE student_id = :sid"), {"sid": removed})
                c.execute(text("UPDATE mastery SET hints_used = 5 WHERE student_id = :sid"), {"sid": edited})
        elif "freezing" in line:  # after the catch-up copies: only the final delta can carry these
            with a.begin() as c:
                c.execute(text("DELETE FROM mastery WHERE student_id = :sid"), {"sid": late})
            store.record_practice(student_id=kept, thread_id=f"t-{kept}", item=ITEM, answer="late", grade=GRADE,
                                  p_before=0.1, p_after=0.2, reply="ok")

    mover = ShardRouter(cluster.urls["dir"], ttl_s=0.2)
    report = move(mover, 8, "b", settle_s=0.5, log=log)
    assert report.students == 4 and report.delta >= 3  # the attempt, its grade, the removal, ...
    assert _count(b, "SELECT count(*) FROM mastery WHERE student_id = ANY(:ids)", ids=[removed, late]) == 0
    assert _count(b, "SELECT hints_used FROM mastery WHERE student_id = :sid", sid=edited) == 5
    assert _count(b, "SELECT attempts FROM mastery WHERE student_id = :sid", sid=kept) == 1
    assert _count(b, "SELECT count(*) FROM attempts WHERE student_id = :sid AND answer = 'late'", sid=kept) == 1
    assert _count(a, "SELECT count(*) FROM mastery WHERE student_id = :sid", sid=kept) == 0
    move(mover, 8, "a", settle_s=0.5)  # reset for reruns in the same module


def test_removals_are_logged_only_while_a_move_captures_them(sharded: Settings, cluster: Cluster) -> None:
    """The trigger of migration 0011 logs deleted keys during a move and costs no write otherwise."""
    store = get_store(sharded)
    sid = _student(12)
    store.ensure_student(sid)
    store.set_mastery(sid, ITEM["skill"], 0.3)
    store.set_mastery(sid, "evaluating-expressions", 0.3)
    a = cluster.direct["a"]
    with a.connect() as c:
        triggered = set(c.scalars(text("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = :n"),
                                  {"n": TRIGGER}))
    assert {t.name for t in OWNED_TABLES} <= triggered  # the checkpoint tables too (`shards init`)
    with a.begin() as c:
        c.execute(text("DELETE FROM mastery WHERE student_id = :sid AND skill = :k"), {"sid": sid, "k": ITEM["skill"]})
    assert _count(a, "SELECT count(*) FROM shard_removals") == 0
    names = [t.name for t in OWNED_TABLES]
    with capturing(a, "a", names, 5.0):
        with pytest.raises(Conflict):  # one move at a time reads a database's removals
            with capturing(a, "a", names, 5.0):
                pass
        with a.begin() as c:
            txid = int(c.scalar(text("SELECT pg_current_xact_id()::text::bigint")) or 0)
            c.execute(text("DELETE FROM students WHERE id = :sid"), {"sid": sid})  # cascades
        with a.connect() as c:
            logged = {(r.table_name, r.txid, json.dumps(r.key, sort_keys=True)) for r in c.execute(
                text("SELECT table_name, txid, key FROM shard_removals"))}
    assert logged == {("students", txid, json.dumps({"id": sid})), ("profiles", txid, json.dumps({"student_id": sid})),
                      ("mastery", txid, json.dumps({"skill": "evaluating-expressions", "student_id": sid},
                                                   sort_keys=True))}
    assert _count(a, "SELECT count(*) FROM shard_removals") == 0  # cleared when the move ends


def test_a_row_deleted_during_a_catch_up_copy_does_not_survive_on_the_target(
        sharded: Settings, cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows deleted while a catch-up copy runs (after its snapshot) are deleted on the target by a later copy."""
    store = get_store(sharded)
    practised, erased, redone = (_student(14) for _ in range(3))
    for sid in (practised, erased, redone):
        store.ensure_student(sid)
        store.set_mastery(sid, ITEM["skill"], 0.1)
    for answer in ("first", "second"):
        store.record_practice(student_id=practised, thread_id=f"t-{practised}", item=ITEM, answer=answer,
                              grade=GRADE, p_before=0.1, p_after=0.2, reply="ok")
    a, b = cluster.direct["a"], cluster.direct["b"]
    with a.begin() as c:
        c.execute(text("INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, type, checkpoint, metadata)"
                       " VALUES (:t, '', :c, 'json', '{}', '{}')"),
                  [{"t": f"t-{practised}", "c": c} for c in ("c1", "c2")])
    first_attempt = _count(a, "SELECT min(id) FROM attempts WHERE student_id = :sid", sid=practised)
    real_copy, calls = shard_ops._copy_delta, []

    def copy_delta_with_deletes(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 1:  # the first catch-up copy: its snapshot is taken, these come after it
            with a.begin() as c:
                c.execute(text("DELETE FROM attempts WHERE id = :id"), {"id": first_attempt})  # and its grade
                c.execute(text("DELETE FROM checkpoints WHERE thread_id = :t AND checkpoint_id = 'c1'"),
                          {"t": f"t-{practised}"})  # a prune: no foreign key
                c.execute(text("DELETE FROM students WHERE id = :sid"), {"sid": erased})  # cascades
                c.execute(text("DELETE FROM mastery WHERE student_id = :sid"), {"sid": redone})
            with a.begin() as c:  # the same key written again: it must stay, with its new value
                c.execute(text("INSERT INTO mastery (student_id, skill, p_known, attempts, correct, streak, "
                               "fail_streak, time_on_task_s, hints_used, misconception_hits, updated_at) VALUES "
                               "(:sid, :k, 0.9, 0, 0, 0, 0, 0, 0, 0, now())"), {"sid": redone, "k": ITEM["skill"]})
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(shard_ops, "_copy_delta", copy_delta_with_deletes)
    mover = ShardRouter(cluster.urls["dir"], ttl_s=0.2)
    report = move(mover, 14, "b", settle_s=0.5)
    assert len(calls) >= 2 and report.students == 3
    assert _count(b, "SELECT count(*) FROM attempts WHERE id = :id", id=first_attempt) == 0
    assert _count(b, "SELECT count(*) FROM grades WHERE attempt_id = :id", id=first_attempt) == 0
    assert _count(b, "SELECT count(*) FROM attempts WHERE student_id = :sid", sid=practised) == 1
    assert _count(b, "SELECT count(*) FROM checkpoints WHERE thread_id = :t", t=f"t-{practised}") == 1
    assert _count(b, "SELECT count(*) FROM checkpoints WHERE checkpoint_id = 'c1' AND thread_id = :t",
                  t=f"t-{practised}") == 0
    for table, column in (("students", "id"), ("profiles", "student_id"), ("mastery", "student_id")):
        assert _count(b, f"SELECT count(*) FROM {table} WHERE {column} = :sid", sid=erased) == 0, table
    with b.connect() as c:
        assert c.scalar(text("SELECT p_known FROM mastery WHERE student_id = :sid"), {"sid": redone}) == 0.9
    assert _count(a, "SELECT count(*) FROM attempts WHERE student_id = :sid", sid=practised) == 0
    monkeypatch.setattr(shard_ops, "_copy_delta", real_copy)
    move(mover, 14, "a", settle_s=0.5)  # reset for reruns in the same module

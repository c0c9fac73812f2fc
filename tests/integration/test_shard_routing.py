# ruff: noqa: F811  (the cluster fixtures are imported from test_shards and named as arguments)
"""Every store of student data on the student's shard: threads, ledger, escalations, privacy, staff views.

The same cluster fixtures as `test_shards.py` (a directory and shards `a` and `b` behind PgBouncer);
each test writes through the stores, then counts rows on each database directly.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, bindparam, event, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.integration.conftest import Api
from tests.integration.test_shards import ITEM, NOW, TODAY, Cluster, _count, _student, cluster, sharded  # noqa: F401
from tests.pgbouncer import pgbouncer, pgbouncer_url  # noqa: F401  (fixtures)
from tutormesh.assessment import analysis, events, quizzes
from tutormesh.cli import main
from tutormesh.core import privacy, shard_ops
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.models import Base
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.shard_ops import move
from tutormesh.core.shards import ShardBusy, ShardRouter, lock_exclusive, logical_shard, owned_id
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.core.stores.assessment import AssessmentStore
from tutormesh.core.stores.escalations import EscalationStore
from tutormesh.core.stores.ledger import CostLedger
from tutormesh.graphs.runtime import open_tutor
from tutormesh.server import dashboards, tutoring
from tutormesh.tools.store import get_store

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
T = TypeVar("T")
WRONG = {"correct": False, "reason": "wrong", "feedback": "not quite"}


def _home(sid: str) -> tuple[str, str]:
    """(the student's database, the other one): even logical shards are on a, odd ones on b."""
    return ("a", "b") if logical_shard(sid) % 2 == 0 else ("b", "a")


def _user_on(accounts: AccountStore, home: str, cohort: str) -> dict[str, object]:
    """A student login whose learner record hashes onto database `home`, in `cohort`."""
    while True:
        user = accounts.create_user(f"st-{uuid.uuid4().hex[:10]}", "x", "student")
        if _home(str(user["student_id"]))[0] == home:
            return accounts.update_user(str(user["id"]), cohort=cohort)
        accounts.delete_user(str(user["id"]))


def _rows(engine: Engine, table: str, sid: str) -> int:
    column = "id" if table == "students" else "student_id"
    return _count(engine, f"SELECT count(*) FROM {table} WHERE {column} = :sid", sid=sid)


def test_threads_and_lifecycle_events_live_on_the_students_shard(sharded: Settings, cluster: Cluster) -> None:
    accounts = AccountStore(get_store(sharded).sessions)
    cohort = f"c{uuid.uuid4().hex[:6]}"
    users = [_user_on(accounts, "a", cohort), _user_on(accounts, "b", cohort)]
    for user in users:
        sid = str(user["student_id"])
        home, other = _home(sid)
        thread = accounts.create_thread(sid)
        tid = thread["thread_id"]
        assert _count(cluster.direct[home], "SELECT count(*) FROM learning_sessions WHERE thread_id = :t", t=tid) == 1
        for elsewhere in (other, "dir"):
            assert _count(cluster.direct[elsewhere], "SELECT count(*) FROM learning_sessions WHERE thread_id = :t",
                          t=tid) == 0
        assert _rows(cluster.direct["dir"], "profiles", sid) == 0 and _rows(cluster.direct[home], "profiles", sid) == 1
        found = accounts.thread(tid)
        assert found is not None and found[0]["student_id"] == sid and found[1] == cohort
        assert [t["thread_id"] for t in accounts.threads(student_id=sid)] == [tid]
        accounts.record_event(sid, "spawned", tid)
        assert _rows(cluster.direct[home], "lifecycle_events", sid) == 1
        assert _rows(cluster.direct["dir"], "lifecycle_events", sid) == 0
        assert [e["event"] for e in accounts.events(sid)] == ["spawned"]
    in_cohort = {t["student_id"] for t in accounts.threads(cohort=cohort)}
    assert in_cohort == {str(u["student_id"]) for u in users}
    # The idle sweep pauses on every database; resuming finds the thread from its id.
    paused = {t["thread_id"] for t in accounts.pause_idle(datetime.now(UTC) + timedelta(seconds=1))}
    mine = {t["thread_id"] for t in accounts.threads(cohort=cohort)}
    assert mine <= paused
    tid = next(iter(mine))
    assert accounts.resume(tid) is True
    sid = accounts.thread(tid)[0]["student_id"]  # type: ignore[index]
    assert [e["event"] for e in accounts.events(sid)][-2:] == ["paused", "resumed"]


def test_a_tutor_reply_reaches_the_checkpoint_on_the_students_shard(sharded: Settings, cluster: Cluster) -> None:
    sid = _student(13)  # on b
    get_store(sharded).ensure_student(sid)
    thread = owned_id(sid)
    with open_tutor(sharded) as tutor:
        tutor.send(sid, thread, "I want to practice linear equations", now=NOW)
        resumed = tutoring.resume_graph(SimpleNamespace(tutor=tutor), thread, sid,  # type: ignore[arg-type]
                                        {"author": "Ms Rao", "text": "try isolating x first", "escalation_id": 7})
        messages = [str(m.content) for m in tutor.state(thread)["messages"]]
    assert resumed is False  # not waiting at the interrupt: the reply is appended to the state
    assert any("try isolating x first" in m for m in messages)
    sql = "SELECT count(*) FROM checkpoints WHERE thread_id = :t"
    assert _count(cluster.direct["b"], sql, t=thread) >= 2  # the turn's and the update's
    assert _count(cluster.direct["dir"], sql, t=thread) == 0 and _count(cluster.direct["a"], sql, t=thread) == 0


def test_ledger_and_escalations_live_on_the_students_shard(sharded: Settings, cluster: Cluster) -> None:
    store = get_store(sharded)
    accounts = AccountStore(store.sessions)
    cohort = f"c{uuid.uuid4().hex[:6]}"
    ledger = CostLedger(store.sessions, sharded)
    inbox = EscalationStore(store.sessions)
    for home in ("a", "b"):
        user = _user_on(accounts, home, cohort)
        sid = str(user["student_id"])
        ledger.record(sid, "gpt-4o-mini", 1000, 500, today=TODAY)
        ledger.set_budget(sid, daily_usd=0.5, monthly_usd=5.0)
        assert _rows(cluster.direct[home], "llm_ledger", sid) == 1
        assert _rows(cluster.direct["dir"], "llm_ledger", sid) == 0
        assert _rows(cluster.direct[home], "llm_budgets", sid) == 1
        assert ledger.spend(sid, today=TODAY).calls == 1 and ledger.budget(sid) == (0.5, 5.0)
        thread = accounts.create_thread(sid)["thread_id"]
        esc = store.open_escalation(sid, None, "stuck on fractions")
        assert _rows(cluster.direct[home], "escalations", sid) == 1 and _rows(cluster.direct["dir"], "escalations",
                                                                              sid) == 0
        assert [e["id"] for e in store.escalations(sid)] == [esc]
        listed = inbox.inbox({cohort}, sla_s=60)
        assert esc in [row["id"] for row in listed]
        staff = accounts.create_user(f"tutor-{uuid.uuid4().hex[:8]}", "x", "tutor")
        inbox.claim(esc, str(staff["id"]), {cohort})
        inbox.reply(esc, str(staff["id"]), {cohort}, author="Ms Rao", text="let us look at it", thread_id=thread)
        assert _count(cluster.direct[home], "SELECT count(*) FROM thread_messages WHERE thread_id = :t AND "
                                            "role = 'tutor'", t=thread) == 1
        assert [m["content"] for m in inbox.tutor_messages(thread)] == ["let us look at it"]
        assert inbox.get(esc, {cohort}, sla_s=60)["thread_id"] == thread
        assert inbox.get(esc, None, sla_s=60)["claimed_by"] == staff["username"]
        with pytest.raises(Exception, match="not found"):
            inbox.get(esc, {"another-cohort"}, sla_s=60)
    assert {r[0] for r in ledger.month_spend(TODAY)} >= {str(r["student_id"]) for r in listed}


def test_staff_views_fan_out_over_both_shards(sharded: Settings, cluster: Cluster) -> None:
    store = get_store(sharded)
    accounts = AccountStore(store.sessions)
    cohort = f"c{uuid.uuid4().hex[:6]}"
    ledger = CostLedger(store.sessions, sharded)
    members = [_user_on(accounts, "a", cohort), _user_on(accounts, "b", cohort)]
    ids = [str(u["student_id"]) for u in members]
    for n, sid in enumerate(ids):
        store.plan(sid, "math", today=TODAY)
        for k in range(3):  # three wrong in a row: a streak alert
            store.record_practice(student_id=sid, thread_id=f"t-{sid}", item=ITEM, answer=f"a{k}", grade=WRONG,
                                  p_before=0.3, p_after=0.2, reply="not yet")
        store.open_negotiation(id=f"n-{sid}", student_id=sid, thread_id=f"t-{sid}", subject="math",
                               skill=ITEM["skill"], kind="pace")
        ledger.record(sid, "gpt-4o-mini", 1000 * (n + 1), 0)
    router = store.router
    with store.sessions() as s:
        struggling = dashboards.struggling(s, cohort, router=router)
        outcomes = dashboards.negotiation_outcomes(s, cohort, router=router)
        cost = dashboards.cost(s, cohort, sharded, router=router)
        history = dashboards.mastery_history(s, ids[1], router=router)
        plans = dashboards.plans(s, ids[1], router=router)
    assert {r["student_id"] for r in struggling} == set(ids)
    assert all(r["streaks"] and r["open_negotiations"] == 1 for r in struggling)
    assert outcomes["total"] == 2
    spent = {r["student_id"]: r["month_usd"] for r in cost["students"]}
    assert set(spent) == set(ids) and spent[ids[1]] > spent[ids[0]] > 0
    assert len(history) == 3 and [p["subject"] for p in plans] == ["math"]


def test_export_and_erase_find_everything_on_the_shard_and_leave_nothing(sharded: Settings,
                                                                          cluster: Cluster) -> None:
    store = get_store(sharded)
    accounts = AccountStore(store.sessions)
    cohort = f"c{uuid.uuid4().hex[:6]}"
    ledger = CostLedger(store.sessions, sharded)
    gone, kept = _user_on(accounts, "b", cohort), _user_on(accounts, "a", cohort)
    with open_tutor(sharded) as tutor:
        for user in (gone, kept):
            sid = str(user["student_id"])
            thread = accounts.create_thread(sid)["thread_id"]
            tutor.send(sid, thread, f"I want to practice linear equations {user['username']}", now=NOW)
            tutor.send(sid, thread, "x = 3", now=NOW)
            ledger.record(sid, "gpt-4o-mini", 100, 10)
            store.open_escalation(sid, None, "stuck")
            accounts.record_event(sid, "spawned", thread)
    sid = str(gone["student_id"])
    export = privacy.export_student(str(gone["username"]), sharded)["data"]
    assert export["account"]["username"] == gone["username"] and export["learner"]["id"] == sid
    assert export["attempts"] and export["threads"] and export["thread_messages"] and export["mastery"]
    assert export["llm_ledger"] and export["escalations"] and export["lifecycle_events"] and export["checkpoints"]
    thread = export["threads"][0]["thread_id"]
    report = privacy.erase_student(str(gone["username"]), sharded, actor="test")
    assert report.findings == [], report.findings
    assert report.removed["attempts"] >= 1 and report.removed["users"] == 1 and report.deidentified["llm_ledger"] == 1
    for name in ("dir", "a", "b"):
        db = cluster.direct[name]
        for table in ("students", "profiles", "mastery", "attempts", "learning_sessions", "escalations",
                      "lifecycle_events", "llm_ledger", "engagement"):
            assert _rows(db, table, sid) == 0, (name, table)
        assert _count(db, "SELECT count(*) FROM checkpoints WHERE thread_id = :t", t=thread) == 0
        assert _count(db, "SELECT count(*) FROM thread_messages WHERE thread_id = :t", t=thread) == 0
        assert _count(db, "SELECT count(*) FROM users WHERE id = :u", u=gone["id"]) == 0
    other = str(kept["student_id"])  # the other student, on the other shard, is untouched
    assert _rows(cluster.direct["a"], "attempts", other) >= 1 and _rows(cluster.direct["a"], "llm_ledger", other) == 1
    assert privacy.find_subject(store.sessions, str(kept["username"])).thread_ids


def test_db_upgrade_migrates_the_directory_and_every_shard(sharded: Settings, cluster: Cluster,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tutormesh.core.db import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with cluster.direct["b"].begin() as conn:  # shard b behind: no engagement table
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert _count(cluster.direct["b"], "SELECT count(*) FROM pg_tables WHERE tablename = 'engagement'") == 0
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "directory at head" in out and "shard a at head" in out and "shard b at head" in out
    for name in ("dir", "a", "b"):
        with cluster.direct[name].connect() as c:
            assert c.scalar(text("SELECT version_num FROM alembic_version")) == head, name
    assert _count(cluster.direct["b"], "SELECT count(*) FROM pg_tables WHERE tablename = 'engagement'") == 1
    assert _count(cluster.direct["b"], "SELECT count(*) FROM skills") > 0


QUIZ = quizzes.QuizIn(title="Signs", questions=[
    {"kind": "choice", "prompt": "-2 x -3?", "spec": {"choices": {"a": "6", "b": "-6"}, "answer": "a"}},
    {"kind": "choice", "prompt": "-2 + -3?", "spec": {"choices": {"a": "5", "b": "-5", "c": "1"}, "answer": "b"}},
])  # type: ignore[list-item]
# Per student: the answers to q1 and q2 (right, wrong, and two different wrong answers to q2).
ANSWERS = [("a", "b"), ("a", "a"), ("b", "c"), ("a", "b"), ("b", "a"), ("a", "c")]


def _quiz_for(accounts: AccountStore, sharded: Settings, homes: list[str],
              quiz: quizzes.QuizIn = QUIZ) -> tuple[str, str, list[str]]:
    """A quiz assigned to a new cohort of students on the given homes; (quiz id, cohort, student ids)."""
    cohort = f"c{uuid.uuid4().hex[:6]}"
    ids = [str(_user_on(accounts, home, cohort)["student_id"]) for home in homes]
    with sessionmaker_for(sharded).begin() as s:
        quiz_id = str(quizzes.create_quiz(s, quiz, created_by="teacher")["id"])
        quizzes.assign(s, quiz_id, cohort=cohort, student_id=None, assigned_by="teacher")
    AssessmentStore(sessionmaker_for(sharded)).mirror_quiz(quiz_id)
    return quiz_id, cohort, ids


def _submit_all(exams: AssessmentStore, quiz_id: str, cohort: str, ids: list[str],
                answers: list[tuple[str, str]] = ANSWERS) -> list[str]:
    subs = []
    for sid, (q1, q2) in zip(ids, answers, strict=False):
        sub = exams.submit(quiz_id, student_id=sid, cohort=cohort, answers={f"{quiz_id}.q1": q1, f"{quiz_id}.q2": q2})
        outcome = exams.grade(sub)
        assert outcome["status"] == "graded"
        exams.relay(sub, outcome["event_ids"])
        subs.append(sub)
    return subs


def test_quiz_submissions_results_and_events_live_on_the_students_shard(sharded: Settings,
                                                                         cluster: Cluster) -> None:
    accounts = AccountStore(get_store(sharded).sessions)
    exams = AssessmentStore(sessionmaker_for(sharded))
    quiz_id, cohort, ids = _quiz_for(accounts, sharded, ["a", "b"])
    thread = accounts.create_thread(ids[1])["thread_id"]
    subs = _submit_all(exams, quiz_id, cohort, ids)
    for sid, sub in zip(ids, subs, strict=True):
        home, other = _home(sid)
        assert _rows(cluster.direct[home], "submissions", sid) == 1
        assert _rows(cluster.direct[other], "submissions", sid) == 0 and _rows(cluster.direct["dir"], "submissions",
                                                                              sid) == 0
        for table, n in (("submission_results", 1), ("question_results", 2)):
            sql = f"SELECT count(*) FROM {table} WHERE submission_id = :s"
            assert _count(cluster.direct[home], sql, s=sub) == n
            assert _count(cluster.direct[other], sql, s=sub) == 0 and _count(cluster.direct["dir"], sql, s=sub) == 0
        assert _count(cluster.direct[home], "SELECT count(*) FROM assessment_events WHERE student_id = :s AND "
                                            "delivered_at IS NOT NULL", s=sid) == 1
        assert _count(cluster.direct["dir"], "SELECT count(*) FROM assessment_events WHERE student_id = :s",
                      s=sid) == 0
        row, view = exams.submission(sub)
        assert row.student_id == sid and view["status"] == "graded" and len(view["questions"]) == 2
    # The quiz itself stays the directory's; each shard holds a copy its rows can reference.
    for name in ("dir", "a", "b"):
        assert _count(cluster.direct[name], "SELECT count(*) FROM quiz_questions WHERE quiz_id = :q", q=quiz_id) == 2
    assert _count(cluster.direct["dir"], "SELECT count(*) FROM quiz_assignments WHERE quiz_id = :q", q=quiz_id) == 1
    # The sweep finds a stuck submission on either shard.
    stuck = exams.submit(quiz_id, student_id=str(_user_on(accounts, "b", cohort)["student_id"]), cohort=cohort,
                         answers={})
    with cluster.direct["b"].begin() as c:
        c.execute(text("UPDATE submissions SET dispatched_at = now() - interval '1 hour' WHERE id = :s"), {"s": stuck})
    assert stuck in exams.claim_stale(older_than_s=60)
    assert thread  # the second student's thread is on b with their rows
    # Assignment progress: every shard's submissions, named from the directory.
    progress = {sub.id: (total is not None, name) for sub, total, name in exams.results(quiz_id, {cohort})}
    assert {sub: graded for sub, (graded, _) in progress.items()} == {subs[0]: True, subs[1]: True, stuck: False}
    assert all(name for _, name in progress.values())
    assert exams.results(quiz_id, {"another-cohort"}) == []


def test_item_analysis_over_two_shards_equals_the_single_database_result(sharded: Settings,
                                                                          cluster: Cluster) -> None:
    accounts = AccountStore(get_store(sharded).sessions)
    exams = AssessmentStore(sessionmaker_for(sharded))
    quiz_id, cohort, ids = _quiz_for(accounts, sharded, ["a", "b", "a", "b", "b", "a"])
    _submit_all(exams, quiz_id, cohort, ids)
    merged = exams.item_analysis(quiz_id, cohort=cohort)
    # The same rows gathered into one database (the directory, rolled back after), analysed there.
    copied = [("students", "id IN :ids"), ("submissions", "student_id IN :ids"),
              ("submission_results", "submission_id IN (SELECT id FROM submissions WHERE student_id IN :ids)"),
              ("question_results", "submission_id IN (SELECT id FROM submissions WHERE student_id IN :ids)")]
    params = {"ids": tuple(ids)}
    with cluster.direct["dir"].begin() as dst:
        for name in ("a", "b"):
            with cluster.direct[name].connect() as src:
                for table, where in copied:
                    rows = [dict(r._mapping) for r in src.execute(
                        select(Base.metadata.tables[table]).where(text(where).bindparams(
                            bindparam("ids", expanding=True))), params)]
                    if rows:
                        dst.execute(insert(Base.metadata.tables[table]).on_conflict_do_nothing(), rows)
        with Session(bind=dst) as s:
            single = analysis.item_analysis(s, quiz_id, cohort=cohort)
        dst.rollback()
    assert {_home(sid)[0] for sid in ids} == {"a", "b"}
    assert merged == single
    assert [r["attempts"] for r in merged] == [6, 6] and merged[0]["discrimination"] is not None
    assert merged[1]["wrong_answers"][0] == {"answer": "a", "count": 2}


def test_a_move_carries_a_students_submissions(sharded: Settings, cluster: Cluster) -> None:
    accounts = AccountStore(get_store(sharded).sessions)
    exams = AssessmentStore(sessionmaker_for(sharded))
    quiz_id, cohort, ids = _quiz_for(accounts, sharded, ["a"])
    sid = ids[0]
    [sub] = _submit_all(exams, quiz_id, cohort, ids)
    logical = logical_shard(sid)
    mover = ShardRouter(cluster.urls["dir"], ttl_s=0.2)
    move(mover, logical, "b", settle_s=0.5)
    try:
        for table in ("submission_results", "question_results"):
            sql = f"SELECT count(*) FROM {table} WHERE submission_id = :s"
            assert _count(cluster.direct["b"], sql, s=sub) > 0 and _count(cluster.direct["a"], sql, s=sub) == 0
        assert _rows(cluster.direct["b"], "submissions", sid) == 1 and _rows(cluster.direct["a"], "submissions",
                                                                            sid) == 0
        assert _rows(cluster.direct["b"], "assessment_events", sid) == 1
        time.sleep(0.3)  # the store's router re-reads the map
        assert exams.submission(sub)[1]["status"] == "graded"
    finally:
        move(mover, logical, "a", settle_s=0.5)


# -- staff views across shards, through the API ------------------------------------------------------
OPEN_QUIZ = {"title": "Explain", "questions": [
    {"kind": "open", "prompt": "How do you solve x + 3 = 5?", "points": 2, "topic": "one-step-equations",
     "spec": {"rubric": {"criteria": [
         {"id": "inverse", "description": "Undo the +3", "points": 1, "keywords": ["subtract|minus"]},
         {"id": "check", "description": "Check", "points": 1, "keywords": ["check|substitute"]}]}}}]}
UNSURE = "I would not subtract 3, then check."  # the negation makes the rubric grader ask a human


def _api_user(api: Api, role: str, cohort: str, home: str | None = None) -> dict[str, Any]:
    """A user who can sign in; a student's learner record on database `home`."""
    while True:
        user = api.user(role, cohort)
        if home is None or _home(str(user["student_id"]))[0] == home:
            return user
        api.services.accounts.delete_user(str(user["id"]))


def _take(api: Api, quiz: dict[str, Any], student: dict[str, Any], answers: list[str], *, grade: bool = True) -> str:
    """The student hands in `answers` (one per question) through the API; graded and relayed as the worker does."""
    body = {"answers": {q["id"]: a for q, a in zip(quiz["questions"], answers, strict=True)}}
    sent = api.client.post(f"/v1/quizzes/{quiz['id']}/submissions", headers=api.login(student), json=body)
    assert sent.status_code == 202, sent.text
    sub = str(sent.json()["submission_id"])
    if not grade:
        return sub
    exams = AssessmentStore(sessionmaker_for(api.services.settings))
    outcome = exams.grade(sub)
    assert outcome["status"] == "graded", outcome
    exams.relay(sub, outcome["event_ids"])
    return sub


def _class(api: Api, quiz_body: dict[str, Any], homes: list[str]) -> tuple[dict[str, str], dict[str, Any],
                                                                          list[dict[str, Any]]]:
    """A teacher (headers), their quiz assigned to their new cohort, and students of it on `homes`."""
    cohort = f"c{uuid.uuid4().hex[:6]}"
    teacher = api.login(_api_user(api, "teacher", cohort))
    made = api.client.post("/v1/quizzes", headers=teacher, json=quiz_body)
    assert made.status_code == 201, made.text
    quiz = made.json()
    assert api.client.post("/v1/assignments", headers=teacher,
                           json={"quiz_id": quiz["id"], "cohort": cohort}).status_code == 201
    return teacher, quiz, [_api_user(api, "student", cohort, home) for home in homes]


def test_review_flags_of_both_shards_are_listed_and_resolved_on_the_students_shard(
        sharded: Settings, cluster: Cluster, start_api: Callable[..., Api]) -> None:
    api = start_api(sharded)
    teacher, quiz, students = _class(api, OPEN_QUIZ, ["a", "b"])
    subs = [_take(api, quiz, student, [UNSURE]) for student in students]
    for sub, student in zip(subs, students, strict=True):
        home, other = _home(str(student["student_id"]))
        sql = "SELECT count(*) FROM review_flags WHERE submission_id = :s AND status = 'open'"
        assert _count(cluster.direct[home], sql, s=sub) == 1
        assert _count(cluster.direct[other], sql, s=sub) == 0 and _count(cluster.direct["dir"], sql, s=sub) == 0
    listed = api.client.get("/v1/flags", headers=teacher).json()
    assert {f["submission_id"]: f["student"] for f in listed} == {
        sub: student["username"] for sub, student in zip(subs, students, strict=True)}
    per_quiz = api.client.get(f"/v1/quizzes/{quiz['id']}/flags", headers=teacher).json()
    assert sorted(f["submission_id"] for f in per_quiz) == sorted(subs)
    assert api.client.get("/v1/flags", headers=api.login(_api_user(api, "teacher", "elsewhere"))).json() == []
    # Resolve the flag of the student on b: the override lands on b, once.
    flag = next(f for f in listed if f["submission_id"] == subs[1])
    stranger = api.login(_api_user(api, "teacher", "elsewhere"))
    assert api.client.post(f"/v1/flags/{flag['id']}/resolve", headers=stranger,
                           json={"reason": "r", "score": 2}).status_code == 404
    out = api.client.post(f"/v1/flags/{flag['id']}/resolve", headers=teacher,
                          json={"reason": "Full marks: the negation was a typo.", "score": 2})
    assert out.status_code == 200, out.text
    assert out.json()["overridden"] is True and out.json()["submission_score"] == 2
    assert api.client.post(f"/v1/flags/{flag['id']}/resolve", headers=teacher,
                           json={"reason": "again", "score": 0}).status_code == 409
    assert api.client.post("/v1/flags/99999999/resolve", headers=teacher, json={"reason": "r"}).status_code == 404
    b = cluster.direct["b"]
    assert _count(b, "SELECT count(*) FROM review_flags WHERE id = :f AND status = 'resolved'", f=flag["id"]) == 1
    assert _count(b, "SELECT score FROM submission_results WHERE submission_id = :s", s=subs[1]) == 2
    assert _count(cluster.direct["a"], "SELECT count(*) FROM review_flags WHERE status = 'resolved' AND "
                                       "submission_id = :s", s=subs[0]) == 0
    view = api.client.get(f"/v1/submissions/{subs[1]}", headers=api.login(students[1])).json()
    assert view["score"] == 2 and "Reviewed by your teacher" in view["questions"][0]["feedback"]
    still = api.client.get("/v1/flags", headers=teacher).json()
    assert [f["submission_id"] for f in still] == [subs[0]]
    done = api.client.get("/v1/flags", headers=teacher, params={"status": "resolved"}).json()
    assert [(f["id"], f["override_score"]) for f in done] == [(flag["id"], 2)]


CHOICE_QUIZ = {"title": "Signs", "subject": "math", "questions": [
    {"kind": "choice", "prompt": "-2 x -3?", "topic": "order-of-operations",
     "spec": {"choices": {"a": "6", "b": "-6"}, "answer": "a"}},
    {"kind": "choice", "prompt": "-2 + -3?", "topic": "order-of-operations",
     "spec": {"choices": {"a": "5", "b": "-5", "c": "1"}, "answer": "b"}}]}
HOMES = ["a", "b", "a", "b", "b", "a"]  # with ANSWERS: on each database, two of three miss q2


def _single_database(cluster: Cluster, ids: list[str], read: Callable[[Session], T]) -> T:
    """`read` over the students' rows gathered into one database (the directory, rolled back after)."""
    copied = [("students", "id IN :ids"), ("submissions", "student_id IN :ids"),
              ("submission_results", "submission_id IN (SELECT id FROM submissions WHERE student_id IN :ids)"),
              ("question_results", "submission_id IN (SELECT id FROM submissions WHERE student_id IN :ids)")]
    with cluster.direct["dir"].begin() as dst:
        for name in ("a", "b"):
            with cluster.direct[name].connect() as src:
                for table, where in copied:
                    rows = [dict(r._mapping) for r in src.execute(select(Base.metadata.tables[table]).where(
                        text(where).bindparams(bindparam("ids", expanding=True))), {"ids": tuple(ids)})]
                    if rows:
                        dst.execute(insert(Base.metadata.tables[table]).on_conflict_do_nothing(), rows)
        with Session(bind=dst) as s:
            found = read(s)
        dst.rollback()
    return found


def test_item_report_combines_every_shards_answers_and_reteach(sharded: Settings, cluster: Cluster,
                                                                start_api: Callable[..., Api]) -> None:
    api = start_api(sharded)
    teacher, quiz, students = _class(api, CHOICE_QUIZ, HOMES)
    for student, answers in zip(students, ANSWERS, strict=True):
        _take(api, quiz, student, list(answers))
    ids = [str(s["student_id"]) for s in students]
    cohort = next(iter({s["cohort"] for s in students}))
    got = api.client.get(f"/v1/quizzes/{quiz['id']}/report", headers=teacher)
    assert got.status_code == 200, got.text
    items = got.json()["items"]
    assert [i["attempts"] for i in items] == [6, 6] and [i["correct"] for i in items] == [4, 2]
    assert {c["key"]: c["count"] for c in items[0]["choices"]} == {"a": 4, "b": 2}
    assert {c["key"]: c["count"] for c in items[1]["choices"]} == {"a": 2, "b": 2, "c": 2}
    assert items[0]["discrimination"] is not None and items[1]["wrong_share"] == round(4 / 6, 3)
    # The rule counts the cohort over both shards (4 of 6 missed q2; each shard alone has 3 answers, under the
    # 5 it needs): one explanation, sent to the four who missed it on either shard.
    reteach = items[1]["reteach"]
    assert len(reteach) == 1 and reteach[0]["students_sent"] == 4, reteach
    assert reteach[0]["answers"] == 6 and reteach[0]["wrong_share"] == round(4 / 6, 3)
    assert {e["cohort"] for e in reteach} == {cohort} and items[0]["reteach"] == []
    # The same rows in one database give the same report (less the shards' own re-teach rows).
    single = _single_database(cluster, ids, lambda s: analysis.item_report(s, quiz["id"], cohort=cohort))
    assert [{k: v for k, v in i.items() if k != "reteach"} for i in items] == [
        {k: v for k, v in i.items() if k != "reteach"} for i in single]


def test_quiz_list_counts_and_a_students_assignment_status_come_from_their_shards(
        sharded: Settings, cluster: Cluster, start_api: Callable[..., Api]) -> None:
    api = start_api(sharded)
    teacher, quiz, students = _class(api, CHOICE_QUIZ, ["a", "b", "b", "a"])
    subs = [_take(api, quiz, s, ["a", "b"]) for s in students[:2]]
    queued = _take(api, quiz, students[2], ["b", "a"], grade=False)
    assert {_home(str(s["student_id"]))[0] for s in students[:3]} == {"a", "b"}
    listed = api.client.get("/v1/quizzes", headers=teacher).json()
    mine = next(q for q in listed if q["id"] == quiz["id"])
    assert (mine["submissions"], mine["graded"]) == (3, 2)
    admin = next(q for q in api.client.get("/v1/quizzes", headers=api.login(api.user("admin", None))).json()
                 if q["id"] == quiz["id"])
    assert (admin["submissions"], admin["graded"]) == (3, 2)
    expected = [("graded", subs[0], 2.0), ("graded", subs[1], 2.0), ("queued", queued, None), ("todo", None, None)]
    for student, (status, sub, score) in zip(students, expected, strict=True):
        [row] = api.client.get("/v1/me/assignments", headers=api.login(student)).json()
        assert (row["status"], row["submission_id"], row["score"]) == (status, sub, score), student


def test_quiz_list_counts_are_grouped_in_sql_not_read_per_submission(sharded: Settings, cluster: Cluster) -> None:
    accounts = AccountStore(get_store(sharded).sessions)
    exams = AssessmentStore(sessionmaker_for(sharded))
    quiz_id, cohort, _ = _quiz_for(accounts, sharded, [])
    # Eight submissions on one logical shard of a, two graded; one on b, graded.
    on_a = [_student(10) for _ in range(8)]
    on_b = _student(11)
    for n, sid in enumerate([*on_a, on_b]):
        sub = exams.submit(quiz_id, student_id=sid, cohort=cohort, answers={f"{quiz_id}.q1": "a"})
        if n < 2 or sid == on_b:
            assert exams.grade(sub)["status"] == "graded"
    router = exams.placement.router
    assert router is not None
    fetched: dict[str, int] = {}

    def count_rows(name: str) -> Callable[..., None]:
        def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if "FROM submissions" in statement:
                fetched[name] = fetched.get(name, 0) + max(cursor.rowcount, 0)
        return after

    listeners = [(router.database(name).engine, count_rows(name)) for name in ("a", "b")]
    for engine, listener in listeners:
        event.listen(engine, "after_cursor_execute", listener)
    try:
        counts = exams.submission_counts([quiz_id], {cohort})
    finally:
        for engine, listener in listeners:
            event.remove(engine, "after_cursor_execute", listener)
    assert counts == {quiz_id: (9, 3)}
    assert fetched == {"a": 1, "b": 1}, fetched  # one row per quiz and logical shard: not one per submission
    assert exams.submission_counts([quiz_id], {"another-cohort"}) == {}


# -- a student's rows during a move: export, erasure and staff views take the shard's lock -------------------
@contextmanager
def _frozen(cluster: Cluster, logical: int) -> Iterator[None]:
    """Hold a logical shard as a move's final copy does: state `frozen`, its lock taken exclusively."""
    mover = ShardRouter(cluster.urls["dir"], ttl_s=0.2)
    shard_ops._set_state(mover, logical, "frozen")
    time.sleep(0.3)  # every router's map (TTL 0.2 s) shows it
    try:
        with mover.directory.begin() as lock:
            lock_exclusive(lock, logical, 5)
            yield
    finally:
        shard_ops._set_state(mover, logical, "active")
        time.sleep(0.3)


def test_export_erasure_and_staff_views_wait_out_a_frozen_shard(sharded: Settings, cluster: Cluster,
                                                                start_api: Callable[..., Api],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    api = start_api(sharded)
    store = get_store(sharded)
    cohort = f"c{uuid.uuid4().hex[:6]}"
    held, free = _api_user(api, "student", cohort, "a"), _api_user(api, "student", cohort, "b")
    ids = [str(held["student_id"]), str(free["student_id"])]
    for sid in ids:
        store.plan(sid, "math", today=TODAY)
        for k in range(3):
            store.record_practice(student_id=sid, thread_id=f"t-{sid}", item=ITEM, answer=f"a{k}", grade=WRONG,
                                  p_before=0.3, p_after=0.2, reply="not yet")
    admin, teacher = api.login(api.user("admin", None)), api.login(_api_user(api, "teacher", cohort))
    router = store.router
    assert router is not None
    monkeypatch.setattr(router, "freeze_wait_s", 0.5)
    with _frozen(cluster, logical_shard(ids[0])), store.sessions() as s:
        with pytest.raises(ShardBusy):
            privacy.export_student(str(held["username"]), sharded)
        with pytest.raises(ShardBusy):
            privacy.erase_student(str(held["username"]), sharded, actor="test")
        with pytest.raises(ShardBusy):
            dashboards.struggling(s, cohort, router=router)
        with pytest.raises(ShardBusy):
            dashboards.mastery_history(s, ids[0], router=router)
        got = api.client.get(f"/v1/admin/students/{held['username']}/export", headers=admin)
        assert got.status_code == 503 and got.headers["Retry-After"] == "1", got.text
        got = api.client.get(f"/v1/dashboards/cohorts/{cohort}", headers=teacher)
        assert got.status_code == 503 and got.headers["Retry-After"] == "1", got.text
        # A student of another shard is not held up.
        assert privacy.export_student(str(free["username"]), sharded)["data"]["mastery"]
        assert len(dashboards.mastery_history(s, ids[1], router=router)) == 3
    # Nothing was erased while frozen; afterwards everything works.
    assert _rows(cluster.direct["a"], "mastery", ids[0]) == 1
    assert _count(cluster.direct["dir"], "SELECT count(*) FROM users WHERE id = :u", u=held["id"]) == 1
    assert privacy.export_student(str(held["username"]), sharded)["data"]["mastery"]
    with store.sessions() as s:
        assert {r["student_id"] for r in dashboards.struggling(s, cohort, router=router)} == set(ids)
    assert api.client.get(f"/v1/dashboards/cohorts/{cohort}", headers=teacher).status_code == 200


def test_an_erasure_during_a_moves_freeze_erases_on_the_new_database(sharded: Settings, cluster: Cluster,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store = get_store(sharded)
    accounts = AccountStore(store.sessions)
    user = _user_on(accounts, "a", f"c{uuid.uuid4().hex[:6]}")
    sid = str(user["student_id"])
    thread = accounts.create_thread(sid)["thread_id"]
    with open_tutor(sharded) as tutor:
        tutor.send(sid, thread, "I want to practice linear equations", now=NOW)
    store.open_escalation(sid, None, "stuck")
    logical = logical_shard(sid)
    erasing: dict[str, Any] = {"on": True}
    flip = shard_ops._flip

    def erase() -> None:
        try:
            erasing["report"] = privacy.erase_student(str(user["username"]), sharded, actor="test")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            erasing["error"] = exc

    def flip_once_an_erasure_waits(c: Any, n: int, database: str | None, state: str) -> None:
        if erasing["on"] and n == logical and database == "b":  # under the lock, after the final delta
            erasing["on"] = False
            erasing["thread"] = threading.Thread(target=erase)
            erasing["thread"].start()
            time.sleep(1.0)  # the erasure started during the freeze
        flip(c, n, database, state)

    monkeypatch.setattr(shard_ops, "_flip", flip_once_an_erasure_waits)
    mover = ShardRouter(cluster.urls["dir"], ttl_s=0.2)
    try:
        move(mover, logical, "b", settle_s=0.5)
        erasing["thread"].join(timeout=30)
        assert "error" not in erasing, erasing.get("error")
        report = erasing["report"]
        assert report.removed["users"] == 1 and report.removed["escalations"] == 1 and report.findings == []
        for name in ("dir", "a", "b"):
            for table in ("students", "profiles", "mastery", "learning_sessions", "escalations", "attempts"):
                assert _rows(cluster.direct[name], table, sid) == 0, (name, table)
            assert _count(cluster.direct[name], "SELECT count(*) FROM checkpoints WHERE thread_id = :t", t=thread) == 0
        assert _count(cluster.direct["dir"], "SELECT count(*) FROM users WHERE id = :u", u=user["id"]) == 0
    finally:
        move(mover, logical, "a", settle_s=0.5)  # reset the map for reruns in this module


# -- the event-delivery sweep and a moving shard -----------------------------------------------------------
def _undelivered(cluster: Cluster, sid: str) -> int:
    return _count(cluster.direct[_home(sid)[0]], "SELECT count(*) FROM assessment_events WHERE student_id = :s AND "
                                                  "delivered_at IS NULL", s=sid)


def test_event_delivery_leaves_a_moving_shard_to_the_next_sweep_and_holds_its_lock(
        sharded: Settings, cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = AccountStore(get_store(sharded).sessions)
    exams = AssessmentStore(sessionmaker_for(sharded))
    quiz_id, cohort, ids = _quiz_for(accounts, sharded, ["a", "b", "a"])
    outcomes = {}
    for sid, (q1, q2) in zip(ids, ANSWERS, strict=False):
        sub = exams.submit(quiz_id, student_id=sid, cohort=cohort, answers={f"{quiz_id}.q1": q1, f"{quiz_id}.q2": q2})
        outcomes[sid] = (sub, exams.grade(sub)["event_ids"])  # graded; its events not delivered yet
    assert [_undelivered(cluster, sid) for sid in ids] == [1, 1, 1]
    mover = ShardRouter(cluster.urls["dir"], ttl_s=0.2)
    moving = logical_shard(ids[0])
    shard_ops._set_state(mover, moving, "moving")
    time.sleep(0.3)  # the store's router (TTL 0.2 s) sees it
    try:
        exams.relay_stuck(older_than_s=0)
        # The moving shard's event is left for the next sweep; the others' (on a too, and on b) are delivered.
        assert [_undelivered(cluster, sid) for sid in ids] == [int(logical_shard(sid) == moving) for sid in ids]
        # Delivering a moving shard's events directly (the worker, after grading) holds its lock meanwhile:
        # a mover asking for it exclusively must wait, so its final copy cannot miss what the consumers write.
        probe: list[bool] = []
        learn = events.student_learns_from_quiz

        def learn_and_probe(s: Session, event: Any) -> list[Any]:
            with mover.directory.begin() as c:
                try:
                    lock_exclusive(c, moving, 0.2)
                    probe.append(True)
                except OperationalError:
                    probe.append(False)
            return learn(s, event)

        monkeypatch.setitem(events.SUBSCRIBERS, "quiz_complete",
                            [("student_agent", learn_and_probe), *events.SUBSCRIBERS["quiz_complete"][1:]])
        sub, event_ids = outcomes[ids[0]]
        assert exams.relay(sub, event_ids) >= 1
        assert probe == [False], probe  # the mover could not take the lock while the event was delivered
        assert _undelivered(cluster, ids[0]) == 0
    finally:
        shard_ops._set_state(mover, moving, "active")
    receipts = "SELECT count(*) FROM event_receipts WHERE event_id = ANY(:ids)"
    assert _count(cluster.direct["a"], receipts, ids=outcomes[ids[0]][1]) == 2  # both agents, on the student's shard


def test_staff_views_count_a_shard_copied_by_a_move_once(sharded: Settings, cluster: Cluster,
                                                         start_api: Callable[..., Api]) -> None:
    """Mid-move a shard's rows are on two databases; the map names the one that counts."""
    api = start_api(sharded)
    teacher, quiz, [student] = _class(api, OPEN_QUIZ, ["a"])
    sub = _take(api, quiz, student, [UNSURE])
    sid = str(student["student_id"])
    copied = [("students", "id = :sid"), ("submissions", "student_id = :sid"),
              ("submission_results", "submission_id = :sub"), ("question_results", "submission_id = :sub"),
              ("review_flags", "submission_id = :sub")]
    with cluster.direct["a"].connect() as src, cluster.direct["b"].begin() as dst:  # what a move's copy writes
        for table, where in copied:
            rows = [dict(r._mapping) for r in src.execute(select(Base.metadata.tables[table]).where(text(where)),
                                                          {"sid": sid, "sub": sub})]
            dst.execute(insert(Base.metadata.tables[table]).on_conflict_do_nothing(), rows)
    try:
        assert _count(cluster.direct["b"], "SELECT count(*) FROM review_flags WHERE submission_id = :s", s=sub) == 1
        assert [f["submission_id"] for f in api.client.get("/v1/flags", headers=teacher).json()] == [sub]
        assert [f["submission_id"] for f in api.client.get(f"/v1/quizzes/{quiz['id']}/flags",
                                                           headers=teacher).json()] == [sub]
        listed = next(q for q in api.client.get("/v1/quizzes", headers=teacher).json() if q["id"] == quiz["id"])
        assert (listed["submissions"], listed["graded"]) == (1, 1)
        [item] = api.client.get(f"/v1/quizzes/{quiz['id']}/report", headers=teacher).json()["items"]
        assert item["attempts"] == 1
    finally:
        with cluster.direct["b"].begin() as c:
            for table, where in reversed(copied):
                c.execute(text(f"DELETE FROM {table} WHERE {where}"), {"sid": sid, "sub": sub})


# -- transcript retention and a moving shard -----------------------------------------------------------------
def _age(cluster: Cluster, name: str, thread: str, days: int) -> None:
    """Make a thread's messages and its last activity `days` old, on database `name`."""
    with cluster.direct[name].begin() as c:
        c.execute(text("UPDATE thread_messages SET created_at = now() - make_interval(days => :d) "
                       "WHERE thread_id = :t"), {"d": days, "t": thread})
        c.execute(text("UPDATE learning_sessions SET last_active_at = now() - make_interval(days => :d) "
                       "WHERE thread_id = :t"), {"d": days, "t": thread})


def _all_messages(cluster: Cluster) -> int:
    return sum(_count(cluster.direct[name], "SELECT count(*) FROM thread_messages") for name in ("dir", "a", "b"))


def test_retention_prune_leaves_a_moving_shard_for_the_next_run(sharded: Settings, cluster: Cluster,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    accounts = AccountStore(get_store(sharded).sessions)
    cohort = f"c{uuid.uuid4().hex[:6]}"
    moving_user = _user_on(accounts, "a", cohort)
    staying_user = _user_on(accounts, "a", cohort)
    while logical_shard(str(staying_user["student_id"])) == logical_shard(str(moving_user["student_id"])):
        staying_user = _user_on(accounts, "a", cohort)
    users = [moving_user, staying_user, _user_on(accounts, "b", cohort)]
    threads = []
    with open_tutor(sharded) as tutor:
        for user in users:
            sid = str(user["student_id"])
            thread = accounts.create_thread(sid)["thread_id"]
            tutor.send(sid, thread, "I want to practice linear equations", now=NOW)
            _age(cluster, _home(sid)[0], thread, 40)
            threads.append(thread)
    sql = "SELECT count(*) FROM thread_messages WHERE thread_id = :t"
    ck = "SELECT count(*) FROM checkpoints WHERE thread_id = :t"
    moving_sid, held = str(moving_user["student_id"]), threads[0]
    kept = _count(cluster.direct["a"], sql, t=held)
    assert kept >= 2 and _count(cluster.direct["a"], ck, t=held) >= 1
    # What a move's copy of the moving shard has put on b so far: the thread and its messages.
    copied = [("students", "id = :sid"), ("learning_sessions", "student_id = :sid"), ("thread_messages",
                                                                                     "thread_id = :t")]
    with cluster.direct["a"].connect() as src, cluster.direct["b"].begin() as dst:
        for table, where in copied:
            rows = [dict(r._mapping) for r in src.execute(select(Base.metadata.tables[table]).where(text(where)),
                                                          {"sid": moving_sid, "t": held})]
            dst.execute(insert(Base.metadata.tables[table]).on_conflict_do_nothing(), rows)
    retention = sharded.model_copy(update={"transcript_retention_days": 30})
    mover = ShardRouter(cluster.urls["dir"], ttl_s=0.2)
    logical = logical_shard(moving_sid)
    shard_ops._set_state(mover, logical, "moving")
    time.sleep(0.3)  # the store's router (TTL 0.2 s) sees it
    try:
        before = _all_messages(cluster)
        pruned = privacy.prune_transcripts(retention)
        # Every deleted message counted once, the copy on b neither deleted nor counted.
        assert pruned["thread_messages"] == before - _all_messages(cluster) > 0
        for thread, user in zip(threads[1:], users[1:], strict=True):  # the other shards, on a and on b
            home = _home(str(user["student_id"]))[0]
            assert _count(cluster.direct[home], sql, t=thread) == 0 and _count(cluster.direct[home], ck, t=thread) == 0
        # The moving shard's thread is untouched on the source and on the target's copy.
        assert _count(cluster.direct["a"], sql, t=held) == kept and _count(cluster.direct["b"], sql, t=held) == kept
        assert _count(cluster.direct["a"], ck, t=held) >= 1
    finally:
        shard_ops._set_state(mover, logical, "active")
        with cluster.direct["b"].begin() as c:  # the move is abandoned: its copy goes
            for table, where in reversed(copied):
                c.execute(text(f"DELETE FROM {table} WHERE {where}"), {"sid": moving_sid, "t": held})
    time.sleep(0.3)
    # Once the shard is settled again, the next run (here `tutormesh retention prune`) prunes it.
    monkeypatch.setenv("TUTORMESH_TRANSCRIPT_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    capsys.readouterr()
    assert main(["retention", "prune"]) == 0
    assert json.loads(capsys.readouterr().out)["thread_messages"] >= kept
    assert _count(cluster.direct["a"], sql, t=held) == 0 and _count(cluster.direct["a"], ck, t=held) == 0


# -- the 60% rule over a cohort's shards -------------------------------------------------------------------
def _explain_events(cluster: Cluster, name: str, sid: str, *, delivered: bool | None = None) -> int:
    done = "" if delivered is None else " AND delivered_at IS " + ("NOT NULL" if delivered else "NULL")
    return _count(cluster.direct[name], "SELECT count(*) FROM assessment_events WHERE student_id = :s AND "
                                        "kind = 'explanation_ready'" + done, s=sid)


def test_the_reteach_rule_counts_the_cohort_on_every_shard_and_writes_under_each_students_lock(
        sharded: Settings, cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = AccountStore(get_store(sharded).sessions)
    exams = AssessmentStore(sessionmaker_for(sharded))
    while True:  # the last submitter and another who misses q2 on a, on different logical shards
        quiz_id, cohort, ids = _quiz_for(accounts, sharded, HOMES, quizzes.QuizIn.model_validate(CHOICE_QUIZ))
        if logical_shard(ids[2]) != logical_shard(ids[5]):
            break
    missed = [ids[n] for n in (1, 2, 4, 5)]  # ANSWERS: four of six miss q2, two on each database
    threads = {sid: accounts.create_thread(sid)["thread_id"] for sid in ids}
    _submit_all(exams, quiz_id, cohort, ids[:5])
    # Five answers, three wrong: under 60% of the six enrolled. No shard alone has the five answers the rule needs.
    assert all(_explain_events(cluster, _home(sid)[0], sid) == 0 for sid in ids)
    router = exams.placement.router
    assert router is not None
    monkeypatch.setattr(router, "freeze_wait_s", 0.5)
    with _frozen(cluster, logical_shard(ids[2])):
        # The sixth answer tips it; the rule must write the event of ids[2] (on a, frozen) under that shard's
        # lock: it waits, the shard stays frozen, the consumer is left for the sweep. Nothing is written.
        _submit_all(exams, quiz_id, cohort, ids[5:], ANSWERS[5:])
        assert sum(_explain_events(cluster, name, sid) for sid in ids for name in ("a", "b")) == 0
    exams.relay_stuck(older_than_s=0)  # the sweep: the rule runs again, then the events written elsewhere
    exams.relay_stuck(older_than_s=0)
    for sid in ids:
        home, other = _home(sid)
        assert _explain_events(cluster, home, sid, delivered=True) == int(sid in missed), sid
        assert _explain_events(cluster, other, sid) == 0
        posted = _count(cluster.direct[home], "SELECT count(*) FROM thread_messages WHERE thread_id = :t AND "
                                              "role = 'assistant' AND content LIKE 'Many of you%'", t=threads[sid])
        assert posted == int(sid in missed), sid
    # One explanation, its copy (same id) beside the students on the other database; listed once.
    explained = "SELECT DISTINCT id FROM explanations WHERE quiz_id = :q"
    with cluster.direct["a"].connect() as a, cluster.direct["b"].connect() as b:
        assert {r[0] for r in a.execute(text(explained), {"q": quiz_id})} == {
            r[0] for r in b.execute(text(explained), {"q": quiz_id})} != set()
    [reteach] = exams.item_report(quiz_id, cohort=cohort)[1]["reteach"]
    assert reteach["students_sent"] == 4 and reteach["answers"] == 6
    sub = next(s for s in exams.results(quiz_id, {cohort}) if s[0].student_id == ids[1])[0].id
    assert [e["question_id"] for e in exams.submission(sub)[1]["explanations"]] == [f"{quiz_id}.q2"]

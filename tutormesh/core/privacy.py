"""One student's data: export it all, erase it from every store, and scan the stores to prove it.

Stores a student's data reaches (docs/data-protection.md has the full map):
- SQL: account, learner record, profile, mastery, attempts and grades, plans, negotiations and
  their messages, escalations, threads and their messages, lifecycle events, quiz assignments,
  submissions and their results and flags, assessment events, LLM budget, ledger, cost alerts.
- LangGraph checkpoints of their threads (SQLite or Postgres saver).
- The semantic cache (SQLite or Redis): entries whose question is one of their messages.
- Redis rate-limit counters keyed by their user id.
- The vector index holds curriculum passages only; it is scanned, never written for a student.

Kept after erasure, de-identified: ledger entries and cost alerts (spend totals are accounts the
school must keep) move to a random `erased:<reference>` id that nothing links back to; the
erasure itself is one `privacy_audit` row with that reference, the admin's id and row counts.

Sharded (docs/scale-plan.md), a student's rows sit on their shard database and the directory
holds their login and registry row: every SQL step here runs on both (`_places`), and the
checkpoints are those of the shard's saver.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import String, Text, cast, delete, func, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.type_api import TypeEngine

from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import NotFound
from tutormesh.core.models import (
    AdaptationRow,
    Attempt,
    Base,
    CostAlert,
    CurriculumPlan,
    Engagement,
    Escalation,
    Grade,
    LearningSession,
    LedgerEntry,
    LifecycleEvent,
    LlmBudget,
    Mastery,
    Negotiation,
    NegotiationMessageRow,
    PrivacyAudit,
    Profile,
    ReflectionRow,
    Student,
    ThreadMessage,
    User,
)
from tutormesh.core.models.assessment import (
    AssessmentEvent,
    EventReceipt,
    QuestionResult,
    QuizAssignment,
    ReviewFlag,
    Submission,
    SubmissionResult,
)
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.shards import Database, Placement, get_router, router_of

log = logging.getLogger("tutormesh.privacy")
# Strings shorter than this are too common to tell a student's apart from anyone else's ("x = 3").
MIN_NEEDLE = 6
ARCHIVE_VERSION = 1


@dataclass
class DataSubject:
    """Who is being exported or erased, and the identifiers and texts that point at them."""

    username: str
    student_id: str
    user_id: str | None
    thread_ids: list[str]
    texts: list[str]  # what they wrote: chat messages and answers
    shared_texts: list[str] = field(default_factory=list)  # of those, what others also wrote word for word

    def needles(self) -> list[str]:
        """Identifiers and texts a scan looks for (each long enough, and written by nobody else)."""
        shared = set(self.shared_texts)
        found = [self.student_id, self.username, *(self.user_id and [self.user_id] or []), *self.thread_ids,
                 *(t for t in self.texts if t not in shared)]
        return sorted({n for n in found if len(n) >= MIN_NEEDLE})


@dataclass(frozen=True)
class Finding:
    """Where a scan found one of the needles."""

    store: str
    where: str
    needle: str  # the kind of needle ("identifier" or "text"), never the value itself


@dataclass
class Erasure:
    """What an erasure removed or de-identified per store, and what the scan afterwards found."""

    reference: str
    removed: dict[str, int] = field(default_factory=dict)
    deidentified: dict[str, int] = field(default_factory=dict)
    not_scanned: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready report."""
        return asdict(self)


# -- finding the student -------------------------------------------------------------------------
def _places(sessions: sessionmaker[Session], student_id: str,
            settings: Settings | None = None) -> list[sessionmaker[Session]]:
    """The databases that may hold a student's rows: the one database, or the directory and their shard.

    Inside `_holding` the shard is the one held (the map read under the shard's lock).
    """
    router = router_of(sessions, settings)
    return [sessions] if router is None else [sessions, router.sessionmaker_for(student_id)]


def _student(sessions: sessionmaker[Session], username: str) -> tuple[User | None, str]:
    """The login (if any) and the learner id of a username; NotFound for staff or nobody."""
    with sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is not None and user.role != "student":
            raise NotFound(f"{username!r} is not a student")
        student_id = user.student_id if user is not None else s.scalar(select(Student.id).where(
            Student.name == username))
        if student_id is None:
            raise NotFound(f"no student named {username!r}")
        return user, str(student_id)


@contextmanager
def _holding(sessions: sessionmaker[Session], username: str, settings: Settings) -> Iterator[Database | None]:
    """Hold the student's shard for an export or erasure, as other per-student calls do (`ShardRouter.using`).

    During a move it waits out the freeze (ShardBusy, 503, past `shard_freeze_wait_s`) and then uses the
    database the map names: an export never reads a half-copied shard, an erasure never misses the copy.
    Yields that database (None: not sharded).
    """
    router = router_of(sessions, settings)
    if router is None:
        yield None
        return
    _, student_id = _student(sessions, username)
    with router.using(student_id) as db:
        yield db


def find_subject(sessions: sessionmaker[Session], username: str) -> DataSubject:
    """Resolve a username (a login, or a learner record's name) to everything that identifies them."""
    user, student_id = _student(sessions, username)
    places = _places(sessions, student_id)
    threads: set[str] = set()
    raw: list[str] = []
    for place in places:
        with place() as s:
            found_threads, found_texts = _threads_and_texts(s, student_id)
            threads |= found_threads
            raw += found_texts
    raw = sorted(set(raw))
    shared: set[str] = set()
    for place in places:
        with place() as s:
            shared |= _shared_texts(s, student_id, threads, raw)
    return DataSubject(username=username, student_id=student_id, user_id=user.id if user else None,
                       thread_ids=sorted(threads), texts=raw, shared_texts=sorted(shared))


def _threads_and_texts(s: Session, student_id: str) -> tuple[set[str], list[str]]:
    """The student's thread ids and what they wrote (chat messages, answers) on one database."""
    threads = set(s.scalars(select(LearningSession.thread_id).where(LearningSession.student_id == student_id)))
    threads |= set(s.scalars(select(Attempt.thread_id).where(Attempt.student_id == student_id)))
    texts = list(s.scalars(select(ThreadMessage.content).where(
        ThreadMessage.thread_id.in_(threads), ThreadMessage.role == "user"))) if threads else []
    texts += list(s.scalars(select(Attempt.answer).where(Attempt.student_id == student_id)))
    texts += list(s.scalars(select(QuestionResult.answer).join(
        Submission, Submission.id == QuestionResult.submission_id).where(Submission.student_id == student_id)))
    return threads, [t for t in texts if t and t.strip()]


def _shared_texts(s: Session, student_id: str, threads: set[str], raw: list[str]) -> set[str]:
    """Of `raw`, what others also wrote on this database: such words prove nothing about this student."""
    if not raw:
        return set()
    shared = set(s.scalars(select(ThreadMessage.content).where(
        ThreadMessage.content.in_(raw), ThreadMessage.thread_id.not_in(threads))))
    return shared | set(s.scalars(select(Attempt.answer).where(Attempt.answer.in_(raw),
                                                              Attempt.student_id != student_id)))


# -- export ----------------------------------------------------------------------------------------
def _row(obj: Any, *, drop: Iterable[str] = ()) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in set(drop)}


def _sql_export(s: Session, who: DataSubject) -> dict[str, Any]:
    sid, threads = who.student_id, who.thread_ids
    by_student: dict[str, Any] = {
        "profile": Profile, "mastery": Mastery, "curriculum_plans": CurriculumPlan, "escalations": Escalation,
        "threads": LearningSession, "lifecycle_events": LifecycleEvent, "submissions": Submission,
        "assessment_events": AssessmentEvent, "quiz_assignments": QuizAssignment, "llm_budget": LlmBudget,
        "llm_ledger": LedgerEntry, "llm_cost_alerts": CostAlert, "engagement": Engagement,
        "adaptations": AdaptationRow, "reflections": ReflectionRow,
    }
    out: dict[str, Any] = {name: [_row(r) for r in s.scalars(select(model).where(model.student_id == sid))]
                           for name, model in by_student.items()}
    user = s.get(User, who.user_id) if who.user_id else None
    out["account"] = _row(user, drop=["password_hash"]) if user else None
    student = s.get(Student, sid)
    out["learner"] = _row(student) if student else None
    attempts = list(s.scalars(select(Attempt).where(Attempt.student_id == sid).order_by(Attempt.id)))
    grades = {g.attempt_id: _row(g) for g in s.scalars(select(Grade).where(
        Grade.attempt_id.in_([a.id for a in attempts])))} if attempts else {}
    out["attempts"] = [{**_row(a), "grade": grades.get(a.id)} for a in attempts]
    negotiations = list(s.scalars(select(Negotiation).where(Negotiation.student_id == sid)))
    messages: dict[str, list[dict[str, Any]]] = {n.id: [] for n in negotiations}
    if negotiations:
        for m in s.scalars(select(NegotiationMessageRow).where(NegotiationMessageRow.negotiation_id.in_(messages))
                           .order_by(NegotiationMessageRow.negotiation_id, NegotiationMessageRow.seq)):
            messages[m.negotiation_id].append(_row(m))
    out["negotiations"] = [{**_row(n), "messages": messages[n.id]} for n in negotiations]
    out["thread_messages"] = [_row(m) for m in s.scalars(select(ThreadMessage).where(
        ThreadMessage.thread_id.in_(threads)).order_by(ThreadMessage.id))] if threads else []
    submission_ids = [r["id"] for r in out["submissions"]]
    for name, model in (("submission_results", SubmissionResult), ("question_results", QuestionResult),
                        ("review_flags", ReviewFlag)):
        out[name] = [_row(r) for r in s.scalars(select(model).where(
            model.submission_id.in_(submission_ids)))] if submission_ids else []
    return out


@contextmanager
def _saver(settings: Settings, student_id: str) -> Iterator[Any]:
    """The saver holding the student's checkpoints: the configured one, or their shard's."""
    router = get_router(settings)
    if router is not None:
        yield router.checkpointer_for(student_id)
        return
    from tutormesh.core.checkpoints import open_checkpointer

    with open_checkpointer(settings) as saver:
        yield saver


def _checkpoint_export(settings: Settings, student_id: str, thread_ids: list[str]) -> dict[str, Any]:
    from langchain_core.messages import BaseMessage, messages_to_dict

    states: dict[str, Any] = {}
    with _saver(settings, student_id) as saver:
        for thread_id in thread_ids:
            found = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
            if found is None:
                continue
            values = dict(found.checkpoint.get("channel_values", {}))
            if isinstance(values.get("messages"), list):
                values["messages"] = messages_to_dict([m for m in values["messages"] if isinstance(m, BaseMessage)])
            states[thread_id] = {"checkpoint_id": found.checkpoint["id"], "values": values}
    return states


def export_student(username: str, settings: Settings | None = None) -> dict[str, Any]:
    """Return everything the platform holds about one student, as JSON-ready data."""
    settings = settings or get_settings()
    sessions = sessionmaker_for(settings)
    data: dict[str, Any] = {}
    with _holding(sessions, username, settings):  # sharded: their shard, held (a move waits, or we wait it out)
        who = find_subject(sessions, username)
        for place in _places(sessions, who.student_id, settings):
            with place() as s:
                for key, value in _sql_export(s, who).items():  # rows of each database; one account, one learner
                    data[key] = data.get(key, []) + value if isinstance(value, list) else data.get(key) or value
        data["checkpoints"] = _checkpoint_export(settings, who.student_id, who.thread_ids)
    data["semantic_cache"] = _cache(settings).entries_for(who.texts)
    return {"format": "tutormesh-student-export", "version": ARCHIVE_VERSION,
            "exported_at": datetime.now(UTC).isoformat(), "username": username, "student_id": who.student_id,
            "data": data}


def write_archive(export: dict[str, Any], target: Path | io.BytesIO) -> None:
    """Write one zip archive: `student.json` (everything) plus a short README."""
    body = json.dumps(export, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("student.json", body)
        archive.writestr("README.txt", "TutorMesh data export: student.json holds every record the platform keeps "
                                       "about this student, one key per store (format version "
                                       f"{ARCHIVE_VERSION}).\n")


def audit(sessions: sessionmaker[Session], action: str, actor: str, details: dict[str, Any],
          reference: str | None = None) -> str:
    """Append a privacy audit row (no personal data); return its reference."""
    reference = reference or uuid.uuid4().hex[:16]
    with sessions.begin() as s:
        s.add(PrivacyAudit(action=action, reference=reference, actor=actor[:64], details=details))
    return reference


# -- erasure ---------------------------------------------------------------------------------------
def _cache(settings: Settings) -> Any:
    from tutormesh.core.stores.cache import open_cache

    return open_cache(settings)


def _sql_erase(s: Session, who: DataSubject, reference: str) -> tuple[dict[str, int], dict[str, int]]:
    sid, threads = who.student_id, who.thread_ids
    removed: dict[str, int] = {}

    def gone(name: str, statement: Any) -> None:
        removed[name] = removed.get(name, 0) + int(s.execute(statement).rowcount or 0)  # type: ignore[attr-defined]

    submissions = select(Submission.id).where(Submission.student_id == sid).scalar_subquery()
    attempts = select(Attempt.id).where(Attempt.student_id == sid).scalar_subquery()
    negotiations = select(Negotiation.id).where(Negotiation.student_id == sid).scalar_subquery()
    events = select(AssessmentEvent.id).where(AssessmentEvent.student_id == sid).scalar_subquery()
    # Children first: correct on both backends without relying on ON DELETE CASCADE.
    for name, child in (("review_flags", ReviewFlag), ("question_results", QuestionResult),
                        ("submission_results", SubmissionResult)):
        gone(name, delete(child).where(child.submission_id.in_(submissions)))
    gone("submissions", delete(Submission).where(Submission.student_id == sid))
    gone("event_receipts", delete(EventReceipt).where(EventReceipt.event_id.in_(events)))
    gone("assessment_events", delete(AssessmentEvent).where(AssessmentEvent.student_id == sid))
    gone("quiz_assignments", delete(QuizAssignment).where(QuizAssignment.student_id == sid))
    gone("grades", delete(Grade).where(Grade.attempt_id.in_(attempts)))
    gone("attempts", delete(Attempt).where(Attempt.student_id == sid))
    gone("negotiation_messages", delete(NegotiationMessageRow).where(
        NegotiationMessageRow.negotiation_id.in_(negotiations)))
    if threads:
        gone("thread_messages", delete(ThreadMessage).where(ThreadMessage.thread_id.in_(threads)))
    model: Any
    for name, model in (("engagement", Engagement), ("adaptations", AdaptationRow), ("reflections", ReflectionRow),
                        ("negotiations", Negotiation), ("escalations", Escalation), ("mastery", Mastery),
                        ("curriculum_plans", CurriculumPlan), ("lifecycle_events", LifecycleEvent),
                        ("threads", LearningSession), ("profiles", Profile), ("llm_budgets", LlmBudget)):
        owned: Any = model
        gone(name, delete(owned).where(owned.student_id == sid))
    if who.user_id:
        gone("users", delete(User).where(User.id == who.user_id))
    gone("students", delete(Student).where(Student.id == sid))
    pseudonym = f"erased:{reference}"
    kept = {"llm_ledger": int(s.execute(update(LedgerEntry).where(LedgerEntry.student_id == sid).values(
                student_id=pseudonym)).rowcount or 0),  # type: ignore[attr-defined]
            "llm_cost_alerts": int(s.execute(update(CostAlert).where(CostAlert.student_id == sid).values(
                student_id=pseudonym)).rowcount or 0)}  # type: ignore[attr-defined]
    return removed, kept


def _checkpoints_erase(settings: Settings, student_id: str, thread_ids: list[str]) -> int:
    with _saver(settings, student_id) as saver:
        conn = getattr(saver, "conn", None)
        if isinstance(conn, sqlite3.Connection):
            conn.execute("PRAGMA secure_delete=ON")
        for thread_id in thread_ids:
            saver.delete_thread(thread_id)
        if isinstance(conn, sqlite3.Connection):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return len(thread_ids)


@contextmanager
def _redis(url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        yield client
    finally:
        client.close()


def _rate_limit_keys(settings: Settings, user_id: str | None, *, remove: bool) -> int:
    """Rate-limit counters are keyed by user id (and expire within their window): find or delete them."""
    url = settings.rate_limit_storage_url
    if not user_id or not url.startswith(("redis://", "rediss://")):
        return 0
    with _redis(url) as client:
        names = list(client.scan_iter(match=f"*{user_id}*", count=1000))
        if remove and names:
            client.delete(*names)
    return len(names)


def erase_student(username: str, settings: Settings | None = None, *, actor: str = "cli") -> Erasure:
    """Erase one student from every store, keep the ledger de-identified, audit it, then scan.

    Non-SQL stores go first and SQL last (one transaction), so an interrupted erasure can simply
    be run again: until the SQL step commits, the student is still found by name.
    """
    settings = settings or get_settings()
    sessions = sessionmaker_for(settings)
    report = Erasure(reference=uuid.uuid4().hex[:16])
    with _holding(sessions, username, settings) as shard:  # sharded: their shard, held for the erasure
        who = find_subject(sessions, username)
        report.removed["checkpoint_threads"] = _checkpoints_erase(settings, who.student_id, who.thread_ids)
        report.removed["semantic_cache"] = _cache(settings).forget_questions(who.texts)
        report.removed["rate_limit_keys"] = _rate_limit_keys(settings, who.user_id, remove=True)
        # Sharded: the shard first, the directory (login, registry row) last, so a rerun still finds them.
        for place in reversed(_places(sessions, who.student_id, settings)):
            with place.begin() as s:
                sqlite = s.get_bind().dialect.name == "sqlite"
                if sqlite:  # overwrite deleted content instead of leaving it in free pages
                    s.execute(sql_text("PRAGMA secure_delete=ON"))
                removed, kept = _sql_erase(s, who, report.reference)
            if sqlite:
                with place() as s:
                    s.execute(sql_text("PRAGMA wal_checkpoint(TRUNCATE)"))  # and out of the write-ahead log
            for counts, into in ((removed, report.removed), (kept, report.deidentified)):
                for name, n in counts.items():
                    into[name] = into.get(name, 0) + n
    audit(sessions, "erase", actor, {"removed": report.removed, "deidentified": report.deidentified},
          reference=report.reference)
    # The scan runs after the shard is let go (it reads every text column: long), on the database erased.
    report.findings, report.not_scanned = scan(who, settings, shard=shard)
    log.info("student erased reference=%s findings=%d", report.reference, len(report.findings))
    return report


# -- the scan ----------------------------------------------------------------------------------------
def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _is_text(type_: TypeEngine[Any]) -> bool:
    return isinstance(type_, String | Text) or type_.__class__.__name__ == "JSON"


def _scan_sql(sessions: sessionmaker[Session], needles: dict[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    with sessions() as s:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if _is_text(c.type)]
            if not columns:
                continue
            for needle, kind in needles.items():
                pattern = _like(needle)
                hit = or_(*[cast(c, Text).like(pattern, escape="\\") for c in columns])
                if s.scalar(select(func.count()).select_from(table).where(hit)):
                    findings.append(Finding("sql", table.name, kind))
    return findings


def _scan_sqlite_blobs(path: str, tables: dict[str, list[str]], needles: dict[str, str],
                       store: str) -> list[Finding]:
    findings: list[Finding] = []
    if not Path(path).exists():
        return findings
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, columns in tables.items():
            if table not in present:
                continue
            for needle, kind in needles.items():
                blob = needle.encode()
                where = " OR ".join(f"instr(CAST({c} AS BLOB), ?) > 0" for c in columns)
                if db.execute(f"SELECT count(*) FROM {table} WHERE {where}",  # noqa: S608 - fixed names
                              [blob] * len(columns)).fetchone()[0]:
                    findings.append(Finding(store, table, kind))
    return findings


def _scan_postgres_checkpoints(url: str, needles: dict[str, str]) -> list[Finding]:
    import psycopg

    from tutormesh.core.checkpoints import libpq_url

    tables = {"checkpoints": ["thread_id", "checkpoint::text", "metadata::text"],
              "checkpoint_blobs": ["thread_id", "blob"], "checkpoint_writes": ["thread_id", "blob"]}
    findings: list[Finding] = []
    with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
        for table, columns in tables.items():
            for needle, kind in needles.items():
                where = " OR ".join(
                    f"position(%s::bytea in {c}) > 0" if c == "blob" else f"strpos({c}, %s) > 0" for c in columns)
                params = [needle.encode() if c == "blob" else needle for c in columns]
                row = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()  # noqa: S608
                if row and row[0]:
                    findings.append(Finding("checkpoints", table, kind))
    return findings


def scan(who: DataSubject, settings: Settings | None = None, *,
         shard: Database | None = None) -> tuple[list[Finding], list[str]]:
    """Search every store for the student's identifiers and texts; return findings and stores not scanned.

    Sharded, the directory and the student's shard: `shard` (the one an erasure held), else the map's.
    """
    settings = settings or get_settings()
    identifiers = {who.student_id, who.username, *(who.thread_ids), *([who.user_id] if who.user_id else [])}
    needles = {n: ("identifier" if n in identifiers else "text") for n in who.needles()}
    sessions = sessionmaker_for(settings)
    places = [sessions, shard.sessions] if shard is not None else _places(sessions, who.student_id, settings)
    findings = [f for place in places for f in _scan_sql(place, needles)]
    url = settings.checkpoints_url
    router = get_router(settings)
    if router is not None:
        findings += _scan_postgres_checkpoints((shard or router.database_for(who.student_id)).url, needles)
    if url.startswith("postgresql"):
        findings += _scan_postgres_checkpoints(url, needles)
    else:
        findings += _scan_sqlite_blobs(url, {"checkpoints": ["thread_id", "checkpoint", "metadata"],
                                             "writes": ["thread_id", "value"]}, needles, "checkpoints")
    cache = _cache(settings)
    findings += [Finding("semantic_cache", where, needles[n]) for n, where in cache.find_texts(list(needles)).items()]
    # The cache keeps questions only as hashes: an entry under the hash of one of their messages is theirs.
    findings += [Finding("semantic_cache", entry["scope"], "text") for entry in cache.entries_for(who.texts)]
    if _rate_limit_keys(settings, who.user_id, remove=False):
        findings.append(Finding("redis", "rate limit keys", "identifier"))
    not_scanned: list[str] = []
    if settings.weaviate_url:
        not_scanned.append("weaviate (holds curriculum passages only; no student text is written to it)")
    else:
        findings += _scan_sqlite_blobs(str((settings.data_dir / "vectors.db").resolve()),
                                       {"vectors": ["id", "text", "meta"]}, needles, "vectors")
    return findings, not_scanned


# -- retention ---------------------------------------------------------------------------------------
def _old_messages(s: Session, cutoff: datetime, keep: Callable[[str], bool] | None) -> tuple[int, int]:
    """Delete one database's messages older than `cutoff` of the threads `keep` allows; (deleted, left).

    `keep(student_id)` false: the thread's shard is being moved (left for the next run); None: all of them.
    """
    old = ThreadMessage.created_at < cutoff
    if keep is None:
        return int(s.execute(delete(ThreadMessage).where(old)).rowcount or 0), 0  # type: ignore[attr-defined]
    owners = s.execute(select(ThreadMessage.thread_id, LearningSession.student_id).distinct().outerjoin(
        LearningSession, LearningSession.thread_id == ThreadMessage.thread_id).where(old)).all()
    due = [t for t, sid in owners if sid is None or keep(sid)]  # a thread no student owns is never moved
    deleted = 0
    for n in range(0, len(due), 1000):
        done = s.execute(delete(ThreadMessage).where(ThreadMessage.thread_id.in_(due[n:n + 1000]), old))
        deleted += int(done.rowcount or 0)  # type: ignore[attr-defined]
    return deleted, len(owners) - len(due)


def prune_transcripts(settings: Settings | None = None, *, now: datetime | None = None) -> dict[str, int]:
    """Delete chat messages older than `transcript_retention_days` (0: keep forever); audit the run.

    Threads idle past the cutoff also lose their checkpoints (the state's message window); the
    learner model (mastery, plans, grades) is not a transcript and stays. Sharded, every shard database
    is pruned as the other sweeps write (`Placement.settled`): only the threads whose student's rows live
    there, on a shard not being moved; a moving shard's threads are left for the next run. The directory
    holds no shard (a move never copies from it): its old messages, if any, all go.
    """
    settings = settings or get_settings()
    days = settings.transcript_retention_days
    if days <= 0:
        return {}
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    sessions = sessionmaker_for(settings)
    placement = Placement(sessions, router_of(sessions, settings))
    messages = threads = left = 0
    if placement.router is not None and sessions.kw["bind"].url not in {
            db.engine.url for db in placement.databases()}:
        with sessions.begin() as s:
            messages += _old_messages(s, cutoff, None)[0]
    for db in placement.databases():
        settled = None if placement.router is None else partial(placement.settled, db)
        with db.sessions.begin() as s:
            deleted, skipped = _old_messages(s, cutoff, settled)
            messages, left = messages + deleted, left + skipped
            idle = [(sid, t) for sid, t in s.execute(select(LearningSession.student_id, LearningSession.thread_id)
                                                     .where(LearningSession.last_active_at < cutoff))
                    if settled is None or settled(sid)]
        by_student: dict[str, list[str]] = {}
        for student_id, thread_id in idle:
            by_student.setdefault(student_id, []).append(thread_id)
        if placement.router is None:  # one saver for all of them
            by_student = {"": [t for ts in by_student.values() for t in ts]} if idle else {}
        for student_id, thread_ids in by_student.items():
            threads += _checkpoints_erase(settings, student_id, thread_ids)
    if left:
        log.info("retention: %d threads on shards being moved left for the next run", left)
    counts = {"thread_messages": messages, "checkpoint_threads": threads}
    if messages or threads:
        audit(sessions, "retention", "scheduler", {"older_than_days": days, **counts})
    return counts

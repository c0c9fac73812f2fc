"""The learner model in SQL: students, profiles, mastery, attempts, plans, negotiations, history.

One SQLAlchemy code path serves SQLite (embedded) and Postgres (production). Methods take and
return plain dicts so graph state and API responses can use them directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.models import (
    AdaptationRow,
    Attempt,
    CurriculumPlan,
    Engagement,
    Escalation,
    Grade,
    LearningSession,
    Mastery,
    Negotiation,
    NegotiationMessageRow,
    Profile,
    Student,
    ThreadMessage,
)
from tutormesh.core.shards import Database, ShardRouter, logical_of_id, scoped_student


def _fields(row: Any) -> Mapping[str, Any]:
    """Read an ORM row or a Core row mapping the same way."""
    return row if isinstance(row, Mapping) else row.__dict__


def _profile_dict(row: Profile | RowMapping) -> dict[str, Any]:
    r = _fields(row)
    return {
        "pace": r["pace"],
        "learning_style": dict(r["learning_style"]),
        "language": r["language"],
        "cultural_context": r["cultural_context"],
        "strengths": list(r["strengths"]),
        "weaknesses": list(r["weaknesses"]),
        "goals": list(r["goals"]),
        "style_counts": dict(r["style_counts"] or {}),
        "style_override": r["style_override"],
    }


def _plan_dict(row: CurriculumPlan | RowMapping) -> dict[str, Any]:
    r = _fields(row)
    return {
        "subject": r["subject"],
        "start_date": r["start_date"].isoformat(),
        "pace": r["pace"],
        "adjustments": list(r["adjustments"]),
        "difficulty_ramp": r["difficulty_ramp"],
        "slow_topics_left": r["slow_topics_left"],
    }


def _mastery_dict(row: Mastery | RowMapping) -> dict[str, Any]:
    r = _fields(row)
    return {"p_known": r["p_known"], "attempts": r["attempts"], "correct": r["correct"], "streak": r["streak"],
            "fail_streak": r["fail_streak"], "time_on_task_s": round(r["time_on_task_s"] or 0.0, 1),
            "hints_used": r["hints_used"] or 0, "misconception_hits": r["misconception_hits"] or 0,
            "last_practised": _iso(r["updated_at"])}


def _aware(ts: datetime | None) -> datetime | None:
    # SQLite drops tzinfo; every timestamp we write is UTC.
    return ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)


# -- the hot path's statements, built once ---------------------------------------------------
# Building a Core statement and its cache key costs more than running it on SQLite, so the
# statements of every turn are module constants with bound parameters.
_LOAD_PROFILE = select(Profile.__table__).where(Profile.student_id == bindparam("student_id"))
_LOAD_PLAN = select(CurriculumPlan.__table__).where(
    CurriculumPlan.student_id == bindparam("student_id"), CurriculumPlan.subject == bindparam("subject"))
_LOAD_MASTERY = select(Mastery.__table__).where(Mastery.student_id == bindparam("student_id"))
_LOAD_COMMITTED = select(
    Negotiation.id, Negotiation.subject, Negotiation.skill, Negotiation.baseline_mastery, Negotiation.review_at
).where(Negotiation.student_id == bindparam("student_id"), Negotiation.status == "committed")
_INSERT_ATTEMPT = insert(Attempt).returning(Attempt.id)
_INSERT_GRADE = insert(Grade)
_INSERT_MASTERY = insert(Mastery)
_INSERT_ENGAGEMENT = insert(Engagement)
_INSERT_MESSAGES = insert(ThreadMessage)
_INSERT_SESSION = insert(LearningSession)
# Update statements may not bind a column's own name, hence the "row_" and "new_" names.
_MASTERY_ROW = (Mastery.student_id == bindparam("row_student_id")) & (Mastery.skill == bindparam("row_skill"))
_UPDATE_MASTERY = {
    correct: update(Mastery).where(_MASTERY_ROW).values(
        p_known=bindparam("new_p_known"), attempts=Mastery.attempts + 1, correct=Mastery.correct + int(correct),
        streak=Mastery.streak + 1 if correct else 0, fail_streak=0 if correct else Mastery.fail_streak + 1,
        time_on_task_s=Mastery.time_on_task_s + bindparam("new_seconds"),
        hints_used=Mastery.hints_used + bindparam("new_hints"),
        misconception_hits=Mastery.misconception_hits + bindparam("new_misconception"), updated_at=bindparam("new_at"))
    for correct in (True, False)
}
_INSERT_ADAPTATION = insert(AdaptationRow)
_RECENT_ENGAGEMENT = select(Engagement.__table__).where(Engagement.student_id == bindparam("student_id")).order_by(
    Engagement.id.desc()).limit(bindparam("limit"))


@lru_cache(maxsize=64)
def _update_profile(names: tuple[str, ...]) -> Any:
    """The UPDATE of these learned profile fields (a few sets recur: style every answer, pace, skills)."""
    return update(Profile).where(Profile.student_id == bindparam("row_student_id")).values(
        {name: bindparam(f"new_{name}") for name in (*names, "updated_at")})


def _write_adaptation(c: Connection, student_id: str, fields: Mapping[str, Any],
                      changes: Sequence[Mapping[str, Any]], now: datetime) -> None:
    """Learned profile fields and the adaptation rows that explain them, on an open transaction."""
    if fields:
        c.execute(_update_profile(tuple(sorted(fields))),
                  {"row_student_id": student_id, "new_updated_at": now, **{f"new_{k}": v for k, v in fields.items()}})
    if changes:
        c.execute(_INSERT_ADAPTATION, [{**change, "student_id": student_id, "created_at": now} for change in changes])


_TOUCH_SESSION = update(LearningSession).where(LearningSession.thread_id == bindparam("row_thread_id")).values(
    turns=LearningSession.turns + bindparam("new_turns"), status="active", last_active_at=bindparam("new_at"))


class LearnerStore:
    """Reads and writes one student's learner model; each method is one short transaction.

    With a `router` (sharding on) a student's rows live on the student's shard database and
    `sessions` is the directory's; calls keyed by a negotiation or thread id find the shard from
    `student_scope` or the id (docs/scale-plan.md). Without one, everything uses `sessions`.
    """

    def __init__(self, sessions: sessionmaker[Session], router: ShardRouter | None = None) -> None:
        """Use the given session factory (the one database, or the directory when sharded)."""
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.router = router
        self._single = nullcontext(Database("single", "", self.engine, sessions))

    def _on(self, student_id: str) -> AbstractContextManager[Database]:
        """The database holding `student_id`'s rows, held for one call (the one routing point)."""
        return self._single if self.router is None else self.router.using(student_id)

    def _on_scope(self, owned_id: str = "") -> AbstractContextManager[Database]:
        """The database of the current `student_scope`, else of the shard an owned id names."""
        if self.router is None:
            return self._single
        if scoped_student() is None and (logical := logical_of_id(owned_id)) is not None:
            return self.router.using_logical(logical)
        return self.router.using_scope()

    # -- one read and one write per turn (the hot path) ----------------------------------------
    # Core statements on a plain connection: several times cheaper than ORM flushes (measured
    # 0.5 ms vs 1.3 ms for the practice write on SQLite), and these run on every turn.
    def load_learner(self, student_id: str, subject: str, *, today: date, now: datetime) -> dict[str, Any]:
        """Load a learner (spawning it on first use): profile, mastery rows, plan, due reviews."""
        with self._on(student_id) as db, db.engine.connect() as c:
            key = {"student_id": student_id}
            profile = c.execute(_LOAD_PROFILE, key).mappings().first()
            plan = c.execute(_LOAD_PLAN, {**key, "subject": subject}).mappings().first()
            if profile is not None and plan is not None:
                mastery = {r["skill"]: _mastery_dict(r) for r in c.execute(_LOAD_MASTERY, key).mappings()}
                committed = list(c.execute(_LOAD_COMMITTED, key).mappings())
        if profile is None or plan is None:  # outside the call: a nested one would wait on a move's lock
            self.ensure_student(student_id)
            self.plan(student_id, subject, today=today)
            return self.load_learner(student_id, subject, today=today, now=now)
        due = [
            {"id": r["id"], "subject": r["subject"], "skill": r["skill"], "baseline_mastery": r["baseline_mastery"]}
            for r in committed
            if (review_at := _aware(r["review_at"])) is not None and review_at <= now
        ]
        return {"profile": _profile_dict(profile), "mastery": mastery, "plan": _plan_dict(plan), "due_reviews": due}

    def record_practice(
        self,
        *,
        student_id: str,
        thread_id: str,
        item: dict[str, Any],
        answer: str,
        grade: dict[str, Any],
        p_before: float,
        p_after: float,
        reply: str,
        signals: Mapping[str, Any] | None = None,
        learned: Mapping[str, Any] | None = None,
        adaptations: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Store an attempt, its grade, its engagement signals, the new mastery and the turn in one transaction.

        Core statements rather than ORM flushes: this runs on every practice turn. `signals` holds
        `shown_before`, `seconds`, `idle_s`, `hints_used`, `retry` and `streak` (see `Engagement`);
        `learned` and `adaptations` are what the answer taught the learner model (as `adapt` takes them),
        written in the same transaction.
        """
        correct = bool(grade["correct"])
        now = datetime.now(UTC)
        sig = {"shown_before": [], "seconds": 0.0, "idle_s": 0.0, "hints_used": 0, "retry": False, "streak": 0,
               **(signals or {})}
        misconception = int(grade["reason"] == "misconception")
        with self._on(student_id) as db, db.engine.begin() as s:
            attempt_id = s.execute(
                _INSERT_ATTEMPT,
                {"student_id": student_id, "thread_id": thread_id, "item_id": item["id"], "skill": item["skill"],
                 "difficulty": item["difficulty"], "answer": answer, "p_known_before": p_before,
                 "p_known_after": p_after, "created_at": now},
            ).scalar_one()
            s.execute(_INSERT_GRADE, {"attempt_id": attempt_id, "correct": correct, "reason": grade["reason"],
                                      "feedback": grade["feedback"], "grader": "symbolic", "confidence": 1.0})
            s.execute(_INSERT_ENGAGEMENT, {**sig, "student_id": student_id, "thread_id": thread_id,
                                           "skill": item["skill"], "item_id": item["id"],
                                           "difficulty": item["difficulty"], "correct": correct,
                                           "reason": grade["reason"], "created_at": now})
            updated = s.execute(_UPDATE_MASTERY[correct], {
                "row_student_id": student_id, "row_skill": item["skill"], "new_p_known": p_after, "new_at": now,
                "new_seconds": sig["seconds"], "new_hints": sig["hints_used"], "new_misconception": misconception})
            if updated.rowcount == 0:
                s.execute(_INSERT_MASTERY, {"student_id": student_id, "skill": item["skill"], "p_known": p_after,
                                            "attempts": 1, "correct": int(correct), "streak": int(correct),
                                            "fail_streak": int(not correct), "time_on_task_s": sig["seconds"],
                                            "hints_used": sig["hints_used"], "misconception_hits": misconception,
                                            "updated_at": now})
            _write_adaptation(s, student_id, learned or {}, adaptations, now)
            self._add_turn(s, thread_id, student_id, answer, reply, now)

    # -- students and profiles -------------------------------------------------------------
    def ensure_student(self, student_id: str, name: str | None = None) -> None:
        """Create the student and a default profile if missing (an agent spawns on first use)."""
        if self.router is not None:  # the directory's registry: names, and global rows' foreign keys
            with self.sessions.begin() as s:
                if s.get(Student, student_id) is None:
                    s.add(Student(id=student_id, name=name or student_id))
        with self._on(student_id) as db, db.sessions.begin() as s:
            if s.get(Student, student_id) is None:
                s.add(Student(id=student_id, name=name or student_id))
                s.flush()  # rows without relationship() are not ordered by foreign key
                s.add(Profile(student_id=student_id))

    def student_id_by_name(self, name: str) -> str | None:
        """Return the id of the student with this name, if any."""
        with self.sessions() as s:
            return s.scalar(select(Student.id).where(Student.name == name))

    def profile(self, student_id: str) -> dict[str, Any]:
        """Return the learning profile (raises LookupError for an unknown student)."""
        with self._on(student_id) as db, db.sessions() as s:
            row = s.get(Profile, student_id)
            if row is None:
                raise LookupError(f"unknown student {student_id!r}")
            return _profile_dict(row)

    def update_profile(self, student_id: str, **fields: Any) -> None:
        """Change profile fields (pace, learning_style, language, ...)."""
        with self._on(student_id) as db, db.sessions.begin() as s:
            row = s.get(Profile, student_id)
            if row is None:
                raise LookupError(f"unknown student {student_id!r}")
            for key, value in fields.items():
                setattr(row, key, value)

    # -- engagement and adaptations (tools/learner_model.py decides; these store) ---------------
    def recent_engagement(self, student_id: str, *, limit: int = 8) -> list[dict[str, Any]]:
        """Return the student's latest answers' signals, oldest first."""
        with self._on(student_id) as db, db.engine.connect() as c:
            rows = c.execute(_RECENT_ENGAGEMENT, {"student_id": student_id, "limit": limit}).mappings().all()
        return [{"skill": r["skill"], "shown_before": list(r["shown_before"]), "correct": r["correct"],
                 "reason": r["reason"], "seconds": r["seconds"], "idle_s": r["idle_s"], "hints_used": r["hints_used"],
                 "retry": r["retry"], "streak": r["streak"]} for r in reversed(rows)]

    def adapt(self, student_id: str, fields: Mapping[str, Any], changes: Sequence[Mapping[str, Any]]) -> None:
        """Write learned profile fields and record each adaptation (kind, before, after, reason) at once."""
        with self._on(student_id) as db, db.engine.begin() as c:
            _write_adaptation(c, student_id, fields, changes, datetime.now(UTC))

    def adaptations(self, student_id: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """Return the student's latest adaptations, newest first."""
        with self._on(student_id) as db, db.sessions() as s:
            rows = s.scalars(select(AdaptationRow).where(AdaptationRow.student_id == student_id)
                             .order_by(AdaptationRow.id.desc()).limit(limit))
            return [{"kind": r.kind, "before": r.before, "after": r.after, "reason": r.reason,
                     "created_at": _iso(r.created_at)} for r in rows]

    # -- mastery and attempts --------------------------------------------------------------
    def mastery(self, student_id: str) -> dict[str, dict[str, Any]]:
        """Return every skill's tracing state for the student, keyed by skill."""
        with self._on(student_id) as db, db.sessions() as s:
            rows = s.scalars(select(Mastery).where(Mastery.student_id == student_id))
            return {r.skill: _mastery_dict(r) for r in rows}

    def set_mastery(self, student_id: str, skill: str, p_known: float) -> None:
        """Overwrite a skill's estimate (placement tests, fixtures)."""
        with self._on(student_id) as db, db.sessions.begin() as s:
            row = s.get(Mastery, (student_id, skill))
            if row is None:
                s.add(Mastery(student_id=student_id, skill=skill, p_known=p_known))
            else:
                row.p_known = p_known

    def reset_fail_streak(self, student_id: str, skill: str) -> None:
        """Start counting failures afresh (after a negotiation changed the plan)."""
        with self._on(student_id) as db, db.sessions.begin() as s:
            row = s.get(Mastery, (student_id, skill))
            if row is not None:
                row.fail_streak = 0

    # -- delivery plans ----------------------------------------------------------------------
    def plan(self, student_id: str, subject: str, *, today: date) -> dict[str, Any]:
        """Return the student's plan in a subject, starting one today if there is none."""
        with self._on(student_id) as db, db.sessions.begin() as s:
            row = s.get(CurriculumPlan, (student_id, subject))
            if row is None:
                pace = s.scalar(select(Profile.pace).where(Profile.student_id == student_id)) or "moderate"
                row = CurriculumPlan(student_id=student_id, subject=subject, start_date=today, pace=pace)
                row.adjustments, row.difficulty_ramp, row.slow_topics_left = [], False, None
                s.add(row)
            return _plan_dict(row)

    def set_plan(self, student_id: str, subject: str, **fields: Any) -> dict[str, Any]:
        """Change plan fields (start_date, pace, adjustments, difficulty_ramp, slow_topics_left)."""
        with self._on(student_id) as db, db.sessions.begin() as s:
            row = s.get(CurriculumPlan, (student_id, subject))
            if row is None:
                raise LookupError(f"no {subject} plan for student {student_id!r}")
            for key, value in fields.items():
                setattr(row, key, value)
            return _plan_dict(row)

    # -- negotiations ------------------------------------------------------------------------
    def open_negotiation(self, **fields: Any) -> None:
        """Insert a negotiation row (id, student_id, thread_id, subject, skill, kind, parent_id)."""
        with self._on(fields["student_id"]) as db, db.sessions.begin() as s:
            s.add(Negotiation(**fields))

    def add_negotiation_message(self, negotiation_id: str, message: dict[str, Any]) -> int:
        """Persist one protocol message; return its sequence number in the negotiation."""
        with self._on_scope(negotiation_id) as db, db.sessions.begin() as s:
            seq = s.scalar(
                select(func.count()).select_from(NegotiationMessageRow).where(
                    NegotiationMessageRow.negotiation_id == negotiation_id
                )
            )
            row = s.get(Negotiation, negotiation_id)
            if row is None:
                raise LookupError(f"unknown negotiation {negotiation_id!r}")
            if message["type"] == "PROPOSE":
                row.rounds += 1
            s.add(
                NegotiationMessageRow(
                    negotiation_id=negotiation_id,
                    seq=seq or 0,
                    type=message["type"],
                    sender=message["sender"],
                    payload=message,
                )
            )
            return int(seq or 0)

    def close_negotiation(self, negotiation_id: str, status: str, **fields: Any) -> None:
        """Set a negotiation's status (committed, escalated, kept, renegotiated) and fields."""
        with self._on_scope(negotiation_id) as db, db.sessions.begin() as s:
            row = s.get(Negotiation, negotiation_id)
            if row is None:
                raise LookupError(f"unknown negotiation {negotiation_id!r}")
            row.status = status
            for key, value in fields.items():
                setattr(row, key, value)
            if status != "committed":
                row.closed_at = datetime.now(UTC)

    def negotiations(self, student_id: str, *, limit: int = 5) -> list[dict[str, Any]]:
        """Return the student's latest negotiations, newest first, each with its typed messages."""
        with self._on(student_id) as db, db.sessions() as s:
            rows = list(
                s.scalars(
                    select(Negotiation)
                    .where(Negotiation.student_id == student_id)
                    .order_by(Negotiation.created_at.desc(), Negotiation.id)
                    .limit(limit)
                )
            )
            messages: dict[str, list[dict[str, Any]]] = {r.id: [] for r in rows}
            if rows:
                for m in s.scalars(
                    select(NegotiationMessageRow)
                    .where(NegotiationMessageRow.negotiation_id.in_(messages))
                    .order_by(NegotiationMessageRow.negotiation_id, NegotiationMessageRow.seq)
                ):
                    messages[m.negotiation_id].append(dict(m.payload))
            return [
                {
                    "id": r.id,
                    "subject": r.subject,
                    "skill": r.skill,
                    "kind": r.kind,
                    "status": r.status,
                    "rounds": r.rounds,
                    "parent_id": r.parent_id,
                    "review_at": _iso(r.review_at),
                    "baseline_mastery": r.baseline_mastery,
                    "outcome": r.outcome,
                    "messages": messages[r.id],
                }
                for r in rows
            ]

    def open_escalation(self, student_id: str, negotiation_id: str | None, reason: str) -> int:
        """Open a human-tutor escalation and return its id; a student already waiting keeps their one.

        A stuck student may deadlock again before a tutor answers: one request per student waits in
        the inbox, not one per failed answer.
        """
        with self._on(student_id) as db, db.sessions.begin() as s:
            waiting = s.scalar(select(Escalation.id).where(Escalation.student_id == student_id,
                                                           Escalation.status != "resolved").order_by(Escalation.id))
            if waiting is not None:
                return int(waiting)
            row = Escalation(student_id=student_id, negotiation_id=negotiation_id, reason=reason)
            s.add(row)
            s.flush()
            return row.id

    def escalations(self, student_id: str) -> list[dict[str, Any]]:
        """Return the student's escalations, oldest first."""
        with self._on(student_id) as db, db.sessions() as s:
            rows = s.scalars(
                select(Escalation).where(Escalation.student_id == student_id).order_by(Escalation.id)
            )
            return [
                {"id": r.id, "negotiation_id": r.negotiation_id, "reason": r.reason, "status": r.status}
                for r in rows
            ]

    # -- conversation history and agent lifecycle --------------------------------------------
    def record_turn(self, thread_id: str, student_id: str, user_text: str | None, ai_text: str) -> None:
        """Append a turn (or, with no user text, a follow-up reply) to the history; mark it active."""
        with self._on(student_id) as db, db.sessions.begin() as s:
            self._add_turn(s, thread_id, student_id, user_text, ai_text, datetime.now(UTC))

    @staticmethod
    def _add_turn(
        s: Session | Connection, thread_id: str, student_id: str, user_text: str | None, ai_text: str, now: datetime
    ) -> None:
        rows = [{"thread_id": thread_id, "role": "assistant", "content": ai_text, "created_at": now}]
        if user_text is not None:
            rows.insert(0, {"thread_id": thread_id, "role": "user", "content": user_text, "created_at": now})
        s.execute(_INSERT_MESSAGES, rows)
        touched = s.execute(_TOUCH_SESSION, {"row_thread_id": thread_id, "new_turns": int(user_text is not None),
                                           "new_at": now})
        if touched.rowcount == 0:  # type: ignore[attr-defined]
            s.execute(_INSERT_SESSION, {"thread_id": thread_id, "student_id": student_id,
                                        "turns": int(user_text is not None), "status": "active", "started_at": now,
                                        "last_active_at": now})

    def history(self, thread_id: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """Return the last `limit` messages of a thread, oldest first."""
        with self._on_scope(thread_id) as db, db.sessions() as s:
            rows = list(
                s.scalars(
                    select(ThreadMessage)
                    .where(ThreadMessage.thread_id == thread_id)
                    .order_by(ThreadMessage.id.desc())
                    .limit(limit)
                )
            )
            # `author` names a human tutor (role "tutor"); `id` lets a live page ask for what came after.
            return [{"id": r.id, "role": r.role, "content": r.content, **({"author": r.author} if r.author else {})}
                    for r in reversed(rows)]


def _iso(ts: datetime | None) -> str | None:
    ts = _aware(ts)
    return ts.isoformat() if ts else None

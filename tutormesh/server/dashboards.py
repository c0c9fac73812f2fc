"""The cohort dashboards' queries: mastery heatmap, struggling students, negotiation outcomes, cost.

Each function reads one cohort in one session and names students by username. Aggregation is done
in SQL per cohort (a class is tens of students, a school a few thousand), never per student in a loop
of queries. Sharded (a `router`), `s` is the directory's session (members, skills, titles) and the
students' rows are read on each database that holds some of them (`_on_students`), then merged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutormesh.core.models import (
    Attempt,
    CurriculumPlan,
    Escalation,
    LedgerEntry,
    LlmBudget,
    Mastery,
    Negotiation,
    Profile,
    Skill,
    User,
)
from tutormesh.core.settings import Settings
from tutormesh.core.shards import ShardRouter
from tutormesh.core.stores.ledger import project_month
from tutormesh.tools import bkt

T = TypeVar("T")

STALLED_ATTEMPTS = 6  # practice attempts after which an unmastered skill under 50% counts as stalled
STALLED_BELOW = 0.5
STREAK_ALERT = 3


def students(s: Session, cohort: str) -> list[tuple[str, str, str]]:
    """Return (user id, username, student id) of the cohort's students, by username."""
    rows = s.execute(select(User.id, User.username, User.student_id).where(
        User.cohort == cohort, User.role == "student", User.student_id.is_not(None)).order_by(User.username))
    return [(str(u), str(n), str(sid)) for u, n, sid in rows]


def _on_students(s: Session, ids: list[str], router: ShardRouter | None,
                 work: Callable[[Session, list[str]], list[T]]) -> list[T]:
    """`work(session, ids)` on the directory's session, or on each shard with the ids it holds (a moving
    shard's after its freeze, see `ShardRouter.for_students`)."""
    return work(s, ids) if router is None else router.for_students(ids, work)


def _on_student(s: Session, student_id: str, router: ShardRouter | None, work: Callable[[Session], T]) -> T:
    """`work(session)` on the database holding the student's rows (during a move: after its freeze)."""
    if router is None:
        return work(s)
    with router.using(student_id) as db, db.sessions() as shard:
        return work(shard)


def _mastery_cells(s: Session, ids: list[str]) -> list[tuple[str, str, float]]:
    return [(str(sid), str(skill), float(p)) for sid, skill, p in s.execute(
        select(Mastery.student_id, Mastery.skill, Mastery.p_known).where(Mastery.student_id.in_(ids)))]


def heatmap(s: Session, cohort: str, *, router: ShardRouter | None = None) -> dict[str, Any]:
    """Mastery per student and skill: the skills anyone in the cohort practised, in curriculum order.

    `s` is the directory's session (members, skills); sharded, the mastery rows are read on each
    database that holds some of the cohort's students and merged.
    """
    members = students(s, cohort)
    ids = [sid for _, _, sid in members]
    found = _mastery_cells(s, ids) if router is None else router.for_students(ids, _mastery_cells)
    cells = {(sid, skill): round(p, 3) for sid, skill, p in found}
    used = {skill for _, skill in cells}
    skills = [{"slug": slug, "title": title} for slug, title in s.execute(
        select(Skill.slug, Skill.title).where(Skill.slug.in_(used)).order_by(Skill.subject, Skill.position))]
    return {"cohort": cohort, "skills": skills, "mastery_threshold": bkt.MASTERY_THRESHOLD,
            "students": [{"user_id": uid, "student": name, "student_id": sid,
                          "mastery": [cells.get((sid, k["slug"])) for k in skills]} for uid, name, sid in members]}


def _mastery_rows(s: Session, ids: list[str]) -> list[Any]:
    return list(s.execute(select(Mastery.student_id, Mastery.skill, Mastery.p_known, Mastery.attempts,
                                 Mastery.fail_streak).where(Mastery.student_id.in_(ids))))


def _open_counts(s: Session, ids: list[str]) -> list[tuple[str, str, int]]:
    """("negotiations" | "escalations", student id, how many are open) of these students."""
    negotiations = s.execute(select(Negotiation.student_id, func.count()).where(
        Negotiation.student_id.in_(ids), Negotiation.status.in_(("open", "committed")))
        .group_by(Negotiation.student_id))
    escalations = s.execute(select(Escalation.student_id, func.count()).where(
        Escalation.student_id.in_(ids), Escalation.status != "resolved").group_by(Escalation.student_id))
    return [("negotiations", str(sid), int(n)) for sid, n in negotiations] + [
        ("escalations", str(sid), int(n)) for sid, n in escalations]


def struggling(s: Session, cohort: str, *, router: ShardRouter | None = None) -> list[dict[str, Any]]:
    """Students with a signal: a wrong-answer streak, stalled mastery, an open negotiation or escalation."""
    members = students(s, cohort)
    ids = [sid for _, _, sid in members]
    titles = dict(s.execute(select(Skill.slug, Skill.title)).all())
    streaks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    stalled: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sid, skill, p, attempts, fails in _on_students(s, ids, router, _mastery_rows):
        if fails >= STREAK_ALERT:
            streaks[sid].append({"skill": titles.get(skill, skill), "wrong_in_a_row": fails})
        if attempts >= STALLED_ATTEMPTS and p < STALLED_BELOW:
            stalled[sid].append({"skill": titles.get(skill, skill), "p_known": round(p, 3), "attempts": attempts})
    negotiations: dict[str, int] = {}
    escalations: dict[str, int] = {}
    for kind, sid, n in _on_students(s, ids, router, _open_counts):
        (negotiations if kind == "negotiations" else escalations)[sid] = n
    out = []
    for uid, name, sid in members:
        score = 3 * escalations.get(sid, 0) + 2 * len(streaks[sid]) + len(stalled[sid]) + negotiations.get(sid, 0)
        if score:
            out.append({"user_id": uid, "student": name, "student_id": sid, "streaks": streaks[sid],
                        "stalled": stalled[sid], "open_negotiations": negotiations.get(sid, 0),
                        "open_escalations": escalations.get(sid, 0), "score": score})
    return sorted(out, key=lambda r: (-r["score"], r["student"]))


def negotiation_outcomes(s: Session, cohort: str, *, weeks: int = 8, today: date | None = None,
                         router: ShardRouter | None = None) -> dict[str, Any]:
    """Negotiations opened per ISO week (the last `weeks`), by outcome, and the success rate."""
    ids = [sid for _, _, sid in students(s, cohort)]
    today = today or datetime.now(UTC).date()
    start = today - timedelta(weeks=weeks - 1, days=today.weekday())
    labels = [(start + timedelta(weeks=n)).isoformat() for n in range(weeks)]
    counts: dict[str, dict[str, int]] = {label: defaultdict(int) for label in labels}
    def opened(db: Session, some: list[str]) -> list[Any]:
        return list(db.execute(select(Negotiation.created_at, Negotiation.status).where(
            Negotiation.student_id.in_(some), Negotiation.created_at >= datetime.combine(start, datetime.min.time()))))

    for created, status in _on_students(s, ids, router, opened):
        day = created.date()
        label = (day - timedelta(days=day.weekday())).isoformat()
        if label in counts:
            counts[label][status] += 1
    statuses = ["committed", "kept", "renegotiated", "escalated", "open"]
    total = sum(sum(c.values()) for c in counts.values())
    agreed = sum(c["committed"] + c["kept"] + c["renegotiated"] for c in counts.values())
    return {"weeks": labels, "statuses": statuses,
            "series": {st: [counts[w][st] for w in labels] for st in statuses},
            "total": total, "success_rate": round(agreed / total, 3) if total else None}


def cost(s: Session, cohort: str, settings: Settings, *, today: date | None = None,
         router: ShardRouter | None = None) -> dict[str, Any]:
    """This month's LLM spend per student against their monthly budget, and the projection."""
    today = today or datetime.now(UTC).date()
    month = today.strftime("%Y-%m")
    members = students(s, cohort)
    ids = [sid for _, _, sid in members]

    def spend(db: Session, some: list[str]) -> list[Any]:
        return list(db.execute(select(LedgerEntry.student_id, func.sum(LedgerEntry.cost_usd)).where(
            LedgerEntry.student_id.in_(some), LedgerEntry.month == month).group_by(LedgerEntry.student_id)))

    def budget_rows(db: Session, some: list[str]) -> list[LlmBudget]:
        return list(db.scalars(select(LlmBudget).where(LlmBudget.student_id.in_(some))))

    spent = dict(_on_students(s, ids, router, spend))
    budgets = {b.student_id: b for b in _on_students(s, ids, router, budget_rows)}
    rows = []
    for uid, name, sid in members:
        month_usd = float(spent.get(sid) or 0.0)
        budget = budgets.get(sid)
        monthly = budget.monthly_usd if budget else settings.llm_budget_monthly_usd
        rows.append({"user_id": uid, "student": name, "student_id": sid, "month_usd": round(month_usd, 6),
                     "projected_usd": round(project_month(month_usd, today), 6), "monthly_budget_usd": monthly,
                     "daily_budget_usd": budget.daily_usd if budget else settings.llm_budget_daily_usd,
                     "over_budget": month_usd >= monthly})
    return {"month": month, "alert_usd": settings.llm_cost_alert_usd, "students": rows}


def mastery_history(s: Session, student_id: str, *, limit: int = 500,
                    router: ShardRouter | None = None) -> list[dict[str, Any]]:
    """A student's mastery after each attempt, oldest first (practice and quizzes)."""
    titles = dict(s.execute(select(Skill.slug, Skill.title)).all())
    rows = _on_student(s, student_id, router, lambda db: list(db.execute(
        select(Attempt.created_at, Attempt.skill, Attempt.p_known_after, Attempt.thread_id)
        .where(Attempt.student_id == student_id).order_by(Attempt.id.desc()).limit(limit))))
    return [{"at": (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat(), "skill": skill,
             "title": titles.get(skill, skill), "p_known": round(p, 3),
             "source": "quiz" if str(thread).startswith("quiz:") else "practice"}
            for at, skill, p, thread in reversed(rows)]


def plans(s: Session, student_id: str, *, router: ShardRouter | None = None) -> list[dict[str, Any]]:
    """A student's delivery plans, one per subject, and their profile's pace."""

    def read(db: Session) -> list[dict[str, Any]]:
        pace = db.scalar(select(Profile.pace).where(Profile.student_id == student_id))
        return [{"subject": p.subject, "pace": p.pace or pace, "adjustments": list(p.adjustments),
                 "difficulty_ramp": p.difficulty_ramp, "slow_topics_left": p.slow_topics_left,
                 "start_date": p.start_date.isoformat()}
                for p in db.scalars(select(CurriculumPlan).where(CurriculumPlan.student_id == student_id))]

    return _on_student(s, student_id, router, read)

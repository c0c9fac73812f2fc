"""The LLM cost ledger: every call metered per student, budgets checked before a call, alerts.

Cost is tokens x the price table in settings (USD per million tokens). Budgets are per student per
day and per month; a student without a budget row gets the defaults in settings. The projected
monthly cost is month-to-date spend plus the recent daily pace (the last `PACE_DAYS` days) over the
days left; above `llm_cost_alert_usd` it records one `CostAlert` per student and month, which
admins read at `GET /v1/admin/cost-alerts`. Why the old month-average projection could never reach
the $10 line with the default budgets, and when this one can: docs/operations.md.

Sharded (docs/scale-plan.md), a student's ledger rows, budget and alerts live on their shard;
the lists over every student read each database.
"""

from __future__ import annotations

import calendar
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.db import migrate, sessionmaker_for
from tutormesh.core.models import CostAlert, LedgerEntry, LlmBudget
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.shards import Placement, ShardRouter, router_of


class OverBudget(Exception):
    """The student has spent their LLM budget for the day or the month."""

    def __init__(self, student_id: str, period: str, spent: float, limit: float) -> None:
        """Record which budget ran out."""
        super().__init__(f"student {student_id} spent ${spent:.4f} of a ${limit:.2f} {period} LLM budget")
        self.student_id, self.period, self.spent, self.limit = student_id, period, spent, limit


@dataclass(frozen=True)
class Spend:
    """What one student spent: today, this month, and the month's linear projection."""

    day_usd: float
    month_usd: float
    projected_month_usd: float
    calls: int


def price(settings: Settings, model: str, tokens_in: int, tokens_out: int) -> float:
    """Return the USD cost of a call from the price table (per million tokens)."""
    cost_in, cost_out = settings.llm_prices.get(model, settings.llm_prices.get("default", (0.0, 0.0)))
    return (tokens_in * cost_in + tokens_out * cost_out) / 1_000_000


PACE_DAYS = 7


def project_month(month_usd: float, today: date, recent_usd: float | None = None) -> float:
    """Project the month's total: spend so far plus the recent daily pace over the days left.

    `recent_usd` is the spend of the last `PACE_DAYS` days (today included) within this month;
    without it the month-to-date average is the pace. A student who starts spending mid-month is
    projected at their real pace, not diluted by the idle days before.
    """
    days = calendar.monthrange(today.year, today.month)[1]
    window = min(PACE_DAYS, today.day)
    pace = (month_usd / today.day) if recent_usd is None else recent_usd / window
    return month_usd + pace * (days - today.day)


def pace_window_start(today: date) -> date:
    """First day of the pace window (never before the first of the month)."""
    return max(today.replace(day=1), today - timedelta(days=PACE_DAYS - 1))


class CostLedger:
    """Reads and writes ledger rows; each method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, router: ShardRouter | None = None) -> None:
        """Bind the ledger to a database (sharded: its shards) and the price table and budgets in `settings`."""
        self._sessions = sessions
        self.settings = settings
        self.placement = Placement(sessions, router or router_of(sessions, settings))

    def record(self, student_id: str, model: str, tokens_in: int, tokens_out: int, *,
               purpose: str = "explain", today: date | None = None) -> float:
        """Meter one call; return its cost. Raises an alert when the projection passes the line."""
        today = today or date.today()
        cost = price(self.settings, model, tokens_in, tokens_out)
        with self.placement.on(student_id) as db, db.sessions.begin() as session:
            session.add(LedgerEntry(student_id=student_id, model=model, purpose=purpose, tokens_in=tokens_in,
                                    tokens_out=tokens_out, cost_usd=cost, day=today, month=today.strftime("%Y-%m")))
        spend = self.spend(student_id, today=today)
        if spend.projected_month_usd > self.settings.llm_cost_alert_usd:
            self._alert(student_id, today, spend.projected_month_usd)
        return cost

    def spend(self, student_id: str, *, today: date | None = None) -> Spend:
        """Return today's and this month's spend, and the projected monthly cost."""
        today = today or date.today()
        with self.placement.on(student_id) as db, db.sessions() as session:
            month_usd, calls = session.execute(
                select(func.coalesce(func.sum(LedgerEntry.cost_usd), 0.0), func.count(LedgerEntry.id)).where(
                    LedgerEntry.student_id == student_id, LedgerEntry.month == today.strftime("%Y-%m"))
            ).one()
            day_usd = session.scalar(select(func.coalesce(func.sum(LedgerEntry.cost_usd), 0.0)).where(
                LedgerEntry.student_id == student_id, LedgerEntry.day == today))
            recent_usd = session.scalar(select(func.coalesce(func.sum(LedgerEntry.cost_usd), 0.0)).where(
                LedgerEntry.student_id == student_id, LedgerEntry.day >= pace_window_start(today),
                LedgerEntry.day <= today))
        projected = project_month(float(month_usd), today, float(recent_usd or 0.0))
        return Spend(float(day_usd or 0.0), float(month_usd), projected, int(calls))

    def budget(self, student_id: str) -> tuple[float, float]:
        """Return the student's (daily, monthly) budget in USD."""
        with self.placement.on(student_id) as db, db.sessions() as session:
            row = session.get(LlmBudget, student_id)
        if row is None:
            return self.settings.llm_budget_daily_usd, self.settings.llm_budget_monthly_usd
        return row.daily_usd, row.monthly_usd

    def set_budget(self, student_id: str, *, daily_usd: float, monthly_usd: float) -> None:
        """Give a student their own budget."""
        with self.placement.on(student_id) as db, db.sessions.begin() as session:
            session.merge(LlmBudget(student_id=student_id, daily_usd=daily_usd, monthly_usd=monthly_usd))

    def check(self, student_id: str, *, today: date | None = None) -> Spend:
        """Raise `OverBudget` when the student may not make another LLM call; else return the spend."""
        spend = self.spend(student_id, today=today)
        daily, monthly = self.budget(student_id)
        if spend.month_usd >= monthly:
            raise OverBudget(student_id, "monthly", spend.month_usd, monthly)
        if spend.day_usd >= daily:
            raise OverBudget(student_id, "daily", spend.day_usd, daily)
        return spend

    def alerts(self, student_id: str | None = None, *, month: str | None = None,
               limit: int = 1000) -> list[dict[str, Any]]:
        """Return the cost alerts, newest first (all students, or one; all months, or one)."""
        query = select(CostAlert).order_by(CostAlert.id.desc()).limit(limit)
        if student_id is not None:
            query = query.where(CostAlert.student_id == student_id)
        if month is not None:
            query = query.where(CostAlert.month == month)
        found: list[CostAlert] = []
        for db in self.placement.databases() if student_id is None else []:
            with db.sessions() as session:
                found += session.scalars(query)
        if student_id is not None:
            with self.placement.on(student_id) as db, db.sessions() as session:
                found += session.scalars(query)
        if len(self.placement.databases()) > 1:  # each database's newest first, merged
            found = sorted(found, key=lambda a: (a.created_at, a.id), reverse=True)[:limit]
        return [{"student_id": a.student_id, "month": a.month, "projected_usd": a.projected_usd,
                 "threshold_usd": a.threshold_usd, "created_at": a.created_at.isoformat()} for a in found]

    def alert_reachable(self, student_id: str | None = None) -> bool:
        """Whether a budget lets a student's projection pass the alert line at all.

        A daily budget caps the pace, so the projection of a budgeted student never exceeds
        daily x days in the month (the defaults, $0.10 a day, top out at $3.10 against a $10 line);
        only unbudgeted spend (e.g. rubric judging in workers) can pass it then.
        """
        daily, monthly = self.budget(student_id) if student_id else (
            self.settings.llm_budget_daily_usd, self.settings.llm_budget_monthly_usd)
        return min(daily * 31, monthly) > self.settings.llm_cost_alert_usd

    def month_spend(self, today: date | None = None) -> list[tuple[str, float, float]]:
        """Return (student_id, month-to-date USD, pace-window USD) for every student who spent this month."""
        today = today or date.today()
        recent = func.sum(case((LedgerEntry.day >= pace_window_start(today), LedgerEntry.cost_usd), else_=0.0))
        rows: list[Any] = []
        for db in self.placement.databases():
            with db.sessions() as session:
                rows += session.execute(select(LedgerEntry.student_id, func.sum(LedgerEntry.cost_usd), recent).where(
                    LedgerEntry.month == today.strftime("%Y-%m"), LedgerEntry.day <= today).group_by(
                    LedgerEntry.student_id)).all()
        return [(str(sid), float(month or 0.0), float(pace or 0.0)) for sid, month, pace in rows]

    def _alert(self, student_id: str, today: date, projected: float) -> None:
        month = today.strftime("%Y-%m")
        try:
            with self.placement.on(student_id) as db, db.sessions.begin() as session:
                exists = session.scalar(select(CostAlert.id).where(CostAlert.student_id == student_id,
                                                                   CostAlert.month == month))
                if exists is None:
                    session.add(CostAlert(student_id=student_id, month=month, projected_usd=projected,
                                          threshold_usd=self.settings.llm_cost_alert_usd))
        except IntegrityError:
            pass  # another process raised the same alert first; one per student and month


_migrated: set[str] = set()
_lock = threading.Lock()


def get_ledger(settings: Settings | None = None) -> CostLedger:
    """Return the ledger of the configured database, migrating it once per process if allowed."""
    settings = settings or get_settings()
    url = settings.sql_url
    with _lock:
        if url not in _migrated:
            if settings.auto_migrate:
                migrate(url)
            _migrated.add(url)
    return CostLedger(sessionmaker_for(settings), settings)

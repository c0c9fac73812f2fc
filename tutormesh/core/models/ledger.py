"""Cost ledger rows: one entry per LLM call, per-student budgets, and cost alerts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow


class LedgerEntry(Base):
    """One metered LLM call: who, which model, tokens in/out, and what it cost at the price table."""

    __tablename__ = "llm_ledger"
    __table_args__ = (Index("ix_llm_ledger_student_month", "student_id", "month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No foreign key: evals, benchmarks and system calls are metered under pseudo-students too.
    student_id: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(40), default="explain")
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    day: Mapped[date] = mapped_column(Date, index=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-11": group by month on SQLite and Postgres alike
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LlmBudget(Base):
    """A student's own LLM budget; students without a row use the defaults in settings."""

    __tablename__ = "llm_budgets"
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    monthly_usd: Mapped[float] = mapped_column(Float)
    daily_usd: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CostAlert(Base):
    """Raised once per student and month when the projected monthly cost passes the alert line."""

    __tablename__ = "llm_cost_alerts"
    __table_args__ = (Index("ux_llm_cost_alerts_student_month", "student_id", "month", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    projected_usd: Mapped[float] = mapped_column(Float)
    threshold_usd: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""The cost ledger on SQLite and Postgres: metering, budgets before the call, projection, alerts."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from tutormesh.core.settings import Settings
from tutormesh.core.stores.ledger import OverBudget, get_ledger, price, project_month

DAY = date(2026, 11, 10)


def test_price_uses_the_table_per_million_tokens(profile: Settings) -> None:
    assert price(profile, "gemma3-270m", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert price(profile, "some-unknown-model", 2_000_000, 0) == pytest.approx(0.30)


def test_projection_is_linear_over_the_month() -> None:
    assert project_month(1.0, DAY) == pytest.approx(3.0)  # 10 of 30 days


def test_projection_follows_the_recent_pace(profile: Settings) -> None:
    ledger, student = get_ledger(profile), f"late-starter-{uuid.uuid4().hex[:8]}"
    for day in range(18, 25):  # $0.50 a day from the 18th: the month will end at $3.50 + 6 x $0.50
        ledger.record(student, "gemma3-270m", 3_333_334, 0, today=date(2026, 11, day))
    spend = ledger.spend(student, today=date(2026, 11, 24))
    assert spend.month_usd == pytest.approx(3.5, abs=0.001)
    assert spend.projected_month_usd == pytest.approx(6.5, abs=0.01)  # the month average said $4.38


def test_calls_add_up_per_day_and_month(profile: Settings) -> None:
    ledger = get_ledger(profile)
    ledger.record("ana", "gemma3-270m", 1000, 500, today=DAY)
    ledger.record("ana", "gemma3-270m", 1000, 500, today=date(2026, 11, 9))
    ledger.record("ben", "gemma3-270m", 1000, 500, today=DAY)
    spend = ledger.spend("ana", today=DAY)
    assert spend.calls == 2
    assert spend.day_usd == pytest.approx(0.00045) and spend.month_usd == pytest.approx(0.0009)
    assert ledger.spend("ana", today=date(2026, 12, 1)).month_usd == 0


def test_budget_is_enforced_before_the_call(profile: Settings) -> None:
    ledger = get_ledger(profile)
    ledger.set_budget("ana", daily_usd=0.001, monthly_usd=1.0)
    ledger.check("ana", today=DAY)
    ledger.record("ana", "gemma3-270m", 10_000, 0, today=DAY)  # $0.0015 > the daily $0.001
    with pytest.raises(OverBudget) as refused:
        ledger.check("ana", today=DAY)
    assert refused.value.period == "daily"
    ledger.check("ana", today=date(2026, 11, 11))  # a new day


def test_projected_cost_above_the_line_raises_one_alert(profile: Settings) -> None:
    ledger = get_ledger(profile)
    ledger.record("ana", "gemma3-270m", 30_000_000, 0, today=DAY)  # $4.50 in the last 7 days, 20 days left
    ledger.record("ana", "gemma3-270m", 1_000, 0, today=DAY)
    ledger.record("ben", "gemma3-270m", 1_000, 0, today=DAY)
    alerts = ledger.alerts()
    assert [a["student_id"] for a in alerts] == ["ana"]
    assert alerts[0]["projected_usd"] == pytest.approx(4.5 + 4.5 / 7 * 20, abs=0.01)
    assert alerts[0]["threshold_usd"] == 10.0

"""SME agent decisions against the semester constraint (no graph, no database)."""

from datetime import date

import pytest

from tutormesh.agents.protocol import Counteroffer, Propose, Reject
from tutormesh.agents.sme import Timeline, evaluate, plan_after_commit, week_of


def propose(kind: str = "PACE_ADJUSTMENT", current: str = "moderate", wanted: str = "slow") -> Propose:
    return Propose(sender="student_agent", kind=kind, current_pace=current, proposed_pace=wanted,
                   reason="Student failed 3/3 practice problems")


def test_week_5_with_7_covered_can_afford_slowing_down() -> None:
    offer = evaluate(propose(), Timeline(semester_weeks=16, week=5, topics_total=20, topics_covered=7))
    assert isinstance(offer, Counteroffer)
    assert offer.proposed_pace == "slow" and offer.slow_topics is None
    assert offer.estimated_impact == "+3 weeks to complete unit"
    assert offer.trade_off == "Will reduce breadth, focus on depth"
    assert len(offer.adjustments) == 3
    assert offer.constraint["topics_left"] == 13 and offer.constraint["weeks_left"] == 12


def test_week_14_with_10_topics_left_is_rejected_with_the_numbers() -> None:
    reply = evaluate(propose(), Timeline(semester_weeks=16, week=14, topics_total=20, topics_covered=10))
    assert isinstance(reply, Reject)
    assert "10 topics remain in 3 weeks" in reply.reason
    assert reply.constraint["slack_weeks"] < 0


def test_partial_slack_becomes_a_slowdown_for_a_few_topics() -> None:
    # 12 topics in 9 weeks: slow (1.3/week) misses, moderate leaves 1.9 spare weeks.
    offer = evaluate(propose(), Timeline(semester_weeks=16, week=8, topics_total=20, topics_covered=8))
    assert isinstance(offer, Counteroffer)
    assert offer.proposed_pace == "slow" and offer.slow_topics is not None and offer.slow_topics >= 1


def test_support_only_request_fits_in_small_slack_or_is_rejected() -> None:
    ask = propose(kind="SUPPORT_ADJUSTMENT", wanted="moderate")
    offer = evaluate(ask, Timeline(semester_weeks=16, week=9, topics_total=20, topics_covered=8))
    assert isinstance(offer, Counteroffer) and offer.proposed_pace == "moderate" and offer.adjustments
    assert isinstance(evaluate(ask, Timeline(semester_weeks=16, week=16, topics_total=20, topics_covered=10)),
                      Reject)


@pytest.mark.parametrize(("start", "today", "week"), [
    (date(2026, 9, 1), date(2026, 9, 1), 1), (date(2026, 9, 1), date(2026, 9, 29), 5),
    (date(2026, 9, 1), date(2027, 9, 1), 16), (date(2026, 9, 1), date(2026, 8, 1), 1)])
def test_week_of_counts_from_the_plan_start_and_clamps(start: date, today: date, week: int) -> None:
    assert week_of(start, today, 16) == week


def test_commit_merges_adjustments_and_turns_on_the_ramp() -> None:
    plan = plan_after_commit({"adjustments": ["Recap summary at the end of each topic"]}, "slow",
                             ["Introduce more practice questions (easier to harder)"], None)
    assert plan["pace"] == "slow" and plan["difficulty_ramp"] is True
    assert plan["adjustments"] == ["Recap summary at the end of each topic",
                                   "Introduce more practice questions (easier to harder)"]

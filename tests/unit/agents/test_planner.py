"""Topic and item choice: goals and weaknesses first, spaced review, pace and the fixed sequence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tutormesh.agents.planner import delivery_pace, fixed_difficulty, focus_topic, next_item, target_difficulty
from tutormesh.tools.curriculum import load_curriculum

MATH = load_curriculum().subjects["math"].topics
NOW = datetime(2026, 10, 30, tzinfo=UTC)


def done(*topics: int, days_ago: int = 1) -> dict[str, dict[str, object]]:
    seen = (NOW - timedelta(days=days_ago)).isoformat()
    return {MATH[i].skill: {"p_known": 0.99, "attempts": 6, "last_practised": seen} for i in topics}


def test_without_preferences_the_teaching_order_is_followed() -> None:
    assert focus_topic("math", done(0, 1), []) == MATH[2]


def test_a_goal_comes_first_starting_at_its_first_missing_prerequisite() -> None:
    mastery = done(0, 1)
    goal = MATH[5]
    chosen = focus_topic("math", mastery, [], goals=[goal.slug], now=NOW)
    assert chosen.slug in [t.slug for t in (goal, *MATH[2:5])]  # the goal, or a prerequisite on the way to it
    assert focus_topic("math", done(0, 1, 2, 3, 4), [], goals=[goal.skill], now=NOW) == goal


def test_weaknesses_come_before_the_teaching_order_and_a_current_topic_is_kept() -> None:
    mastery = {**done(0, 1, 2), MATH[1].skill: {"p_known": 0.3, "attempts": 4}}
    assert focus_topic("math", mastery, [], weaknesses=[MATH[1].skill], now=NOW) == MATH[1]
    assert focus_topic("math", mastery, [], current=MATH[3].slug, weaknesses=[MATH[1].skill]) == MATH[3]


def test_a_stale_mastered_skill_is_due_a_spaced_review() -> None:
    mastery = {**done(0, 1), **done(2, days_ago=12)}
    assert focus_topic("math", mastery, [], now=NOW) == MATH[2]
    assert focus_topic("math", mastery, []) == MATH[3]  # no clock, no review


def test_pace_moves_difficulty_and_the_ramp_and_an_agreed_pace_wins() -> None:
    assert [target_difficulty(0.5, 0, {}, pace) for pace in ("slow", "moderate", "fast")] == [2, 3, 4]
    ramp = {"difficulty_ramp": True}
    assert target_difficulty(0.9, 1, ramp, "slow") == 1 and target_difficulty(0.9, 1, ramp, "moderate") == 2
    assert delivery_pace({"pace": "slow"}, {"pace": "fast"}) == "slow"
    assert delivery_pace({"pace": "moderate"}, {"pace": "fast"}) == "fast"


def test_the_fixed_sequence_goes_through_levels_one_to_five_in_order() -> None:
    assert [fixed_difficulty(n) for n in range(7)] == [1, 2, 3, 4, 5, 1, 2]
    row = {MATH[0].skill: {"p_known": 0.99, "attempts": 2, "streak": 5}}
    assert next_item("ana", MATH[0], row, {}, adaptive=False).difficulty == 3
    assert next_item("ana", MATH[0], row, {}, adaptive=True).difficulty == 5

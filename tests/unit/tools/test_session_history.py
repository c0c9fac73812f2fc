"""The 30-day session summary: windowing, sessions split by reflections, per-skill figures, reviews due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tutormesh.tools.learner_model import HISTORY_DAYS
from tutormesh.tools.session_history import summarise

NOW = datetime(2026, 12, 4, 10, tzinfo=UTC)


def answer(i: int, skill: str, correct: bool, *, days_ago: float, seconds: float = 30.0,
           hints: int = 0) -> dict[str, Any]:
    return {"id": i, "skill": skill, "correct": correct, "seconds": seconds, "hints_used": hints,
            "created_at": (NOW - timedelta(days=days_ago)).isoformat()}


def reflection(first: int, last: int, *, days_ago: float, summary: str) -> dict[str, Any]:
    return {"first_engagement_id": first, "last_engagement_id": last, "trigger": "goodbye", "summary": summary,
            "created_at": (NOW - timedelta(days=days_ago)).isoformat()}


ANSWERS = [
    answer(1, "slope", True, days_ago=40),  # outside the window
    answer(2, "slope", True, days_ago=10, seconds=20),
    answer(3, "slope", False, days_ago=10, seconds=100, hints=1),
    answer(4, "one-step-equations", True, days_ago=2, seconds=40),
    answer(5, "one-step-equations", True, days_ago=2, seconds=50),
    answer(6, "slope", False, days_ago=0.1, seconds=300, hints=2),  # the open session
]
REFLECTIONS = [reflection(1, 1, days_ago=40, summary="old"), reflection(2, 3, days_ago=10, summary="first"),
               reflection(4, 5, days_ago=2, summary="second")]


def test_totals_cover_only_the_window() -> None:
    got = summarise(ANSWERS, REFLECTIONS, NOW)
    assert got["days"] == HISTORY_DAYS and got["since"] == (NOW - timedelta(days=HISTORY_DAYS)).isoformat()
    assert (got["answers"], got["right"], got["accuracy"]) == (5, 3, 0.6)
    assert got["time_on_task_s"] == 510.0 and got["hints_used"] == 3
    assert got["sessions"] == 3  # two reflected, one open


def test_sessions_follow_the_reflections_newest_first() -> None:
    sessions = summarise(ANSWERS, REFLECTIONS, NOW)["recent_sessions"]
    assert [s["reflection"] for s in sessions] == [None, "second", "first"]
    assert [s["open"] for s in sessions] == [True, False, False]
    assert [(s["answers"], s["right"]) for s in sessions] == [(1, 0), (2, 2), (2, 1)]
    assert sessions[2]["skills"] == [{"skill": "slope", "title": "slope"}] and sessions[2]["time_on_task_s"] == 120.0


def test_skills_most_recent_first_with_accuracy_and_time() -> None:
    got = summarise(ANSWERS, REFLECTIONS, NOW, titles={"slope": "Slope from two points"})
    slope, steps = got["skills"]
    assert (slope["skill"], slope["title"]) == ("slope", "Slope from two points")
    assert (slope["answers"], slope["right"]) == (3, 1)
    assert slope["accuracy"] == 0.333 and slope["time_on_task_s"] == 420.0
    assert (steps["skill"], steps["accuracy"], steps["time_on_task_s"]) == ("one-step-equations", 1.0, 90.0)
    assert [r["summary"] for r in got["reflections"]] == ["second", "first"]  # "old" is outside


def test_reviews_due_are_the_planners_spaced_reviews() -> None:
    mastery = {"slope": {"attempts": 3, "last_practised": (NOW - timedelta(days=10)).isoformat()},
               "fractions": {"attempts": 2, "last_practised": (NOW - timedelta(days=1)).isoformat()},
               "ratios": {"attempts": 4, "last_practised": (NOW - timedelta(days=45)).isoformat()}}
    assert summarise([], [], NOW, mastery=mastery)["due_reviews"] == [{"skill": "slope", "title": "slope"}]


def test_no_sessions_is_an_empty_summary() -> None:
    got = summarise([], [], NOW)
    assert (got["sessions"], got["answers"], got["accuracy"], got["skills"], got["recent_sessions"]) == (
        0, 0, None, [], [])


def test_naive_timestamps_are_utc() -> None:  # SQLite drops tzinfo
    naive = [{**answer(7, "slope", True, days_ago=1), "created_at": (NOW - timedelta(days=1)).replace(tzinfo=None)}]
    assert summarise(naive, [], NOW)["answers"] == 1

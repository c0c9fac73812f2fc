"""Helpers for the console tests: a student stuck at week 14 whose agent escalates to a human."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.conftest import Api
from tutormesh.tools.curriculum import load_curriculum

WRONG = "x = 12345"


def deadlocked_student(api: Api, cohort: str = "c1") -> tuple[dict[str, Any], dict[str, str], str]:
    """A signed-in student in week 14 with 10 topics left, who fails three problems: the agent escalates."""
    user, headers, thread = api.student(cohort)
    store = api.services.learner
    sid = user["student_id"]
    today = datetime.now(UTC).date()
    store.plan(sid, "math", today=today)
    store.set_plan(sid, "math", start_date=today - timedelta(weeks=13))
    for topic in load_curriculum().subjects["math"].topics[:10]:
        store.set_mastery(sid, topic.skill, 0.97)
    api.say(headers, thread, "I want to practice linear equations")
    result: dict[str, Any] = {}
    for _ in range(3):
        result = api.say(headers, thread, WRONG)
    assert result["negotiations"][0]["status"] == "escalated", result["negotiations"][0]
    return user, headers, thread


def escalation_of(api: Api, staff: dict[str, str], username: str) -> dict[str, Any]:
    """Return the inbox row of the student's escalation."""
    rows = api.client.get("/v1/escalations", headers=staff).json()
    return next(r for r in rows if r["student"] == username)


def choice_quiz(api: Api, headers: dict[str, str], title: str = "Signs") -> dict[str, Any]:
    """Create a two-question multiple-choice quiz on linear equations."""
    body = {"title": title, "subject": "math", "questions": [
        {"kind": "choice", "prompt": "Compute 2 + 3 * 4", "topic": "order-of-operations",
         "spec": {"choices": {"a": "14", "b": "20", "c": "24"}, "answer": "a"}},
        {"kind": "choice", "prompt": "Solve 2x = 10", "spec": {"choices": {"a": "x = 5", "b": "x = 20"},
                                                              "answer": "a"}}]}
    response = api.client.post("/v1/quizzes", headers=headers, json=body)
    assert response.status_code == 201, response.text
    quiz: dict[str, Any] = response.json()
    return quiz

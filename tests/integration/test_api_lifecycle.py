"""Agent lifecycle: spawned on login, paused after idle minutes, resumed on the next message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import Api
from tutormesh.server.lifecycle import Lifecycle

pytestmark = pytest.mark.integration


def events(api: Api, student_id: str) -> list[str]:
    return [e["event"] for e in api.services.accounts.events(student_id)]


def test_spawn_pause_resume_loses_nothing(start_api: Callable[..., Api]) -> None:
    api = start_api(agent_idle_minutes="10")
    user, headers, thread = api.student()
    assert events(api, user["student_id"]) == ["spawned"]
    item = api.say(headers, thread, "practice linear equations")["current_item"]

    assert api.services.lifecycle.sweep(datetime.now(UTC) + timedelta(minutes=5)) == []  # not idle long enough
    paused = api.services.lifecycle.sweep(datetime.now(UTC) + timedelta(minutes=11))
    assert [p["thread_id"] for p in paused] == [thread]
    assert user["student_id"] not in api.services.lifecycle.live
    view = api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    assert view["status"] == "paused" and len(view["messages"]) == 2
    assert events(api, user["student_id"]) == ["spawned", "paused"]

    graded = api.say(headers, thread, "x = 12345" if "x" in item["prompt"] else "12345")
    assert graded["intent"] == "answer" and graded["last_grade"] is not None  # the pending problem survived
    view = api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    assert view["status"] == "active" and len(view["messages"]) == 4
    assert events(api, user["student_id"]) == ["spawned", "paused", "resumed"]


def test_the_sweeper_runs_on_its_own(start_api: Callable[..., Api]) -> None:
    api = start_api(agent_idle_minutes="0", lifecycle_sweep_seconds="0.05")
    user, headers, thread = api.student()
    api.say(headers, thread, "practice")
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while "paused" not in events(api, user["student_id"]) and datetime.now(UTC) < deadline:
        api.client.get("/v1/health")
    assert "paused" in events(api, user["student_id"])


def test_first_message_after_a_restart_spawns_the_agent(api: Api) -> None:
    user, headers, thread = api.student()
    api.services.lifecycle.live.clear()  # as after a restart: a valid token, no agent in this process
    api.say(headers, thread, "practice")
    assert events(api, user["student_id"]) == ["spawned", "spawned"]


def test_turns_of_one_thread_are_serialised(api: Api) -> None:
    lifecycle: Lifecycle = api.services.lifecycle
    assert lifecycle.lock("t1") is lifecycle.lock("t1") and lifecycle.lock("t1") is not lifecycle.lock("t2")

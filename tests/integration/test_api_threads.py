"""Threads over HTTP: a practice turn end to end (JSON and SSE), ownership, roles, and restarts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Api, configure
from tutormesh.core.settings import Settings

pytestmark = pytest.mark.integration


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse an SSE body into (event, data) pairs."""
    events = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        lines = frame.strip().splitlines()
        name = next((line[6:].strip() for line in lines if line.startswith("event:")), "message")
        data = [line[5:].strip() for line in lines if line.startswith("data:")]
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def answer_of(prompt: str) -> str:
    """Give a wrong but well-formed answer (grading is deterministic either way)."""
    return "x = 12345" if "x" in prompt else "12345"


def test_practice_turns_and_the_thread_view(profile: Settings, start_api: Callable[..., Api],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if profile.is_production:
        configure(monkeypatch, jwt_secret="s" * 40)
    api = start_api()
    _, headers, thread = api.student()
    served = api.say(headers, thread, "practice linear equations")
    assert served["intent"] == "practice" and served["current_item"]["prompt"] in served["replies"][-1]
    graded = api.say(headers, thread, answer_of(served["current_item"]["prompt"]))
    assert graded["intent"] == "answer" and graded["last_grade"]["correct"] is False
    skill = served["current_item"]["skill"]
    assert graded["mastery"][skill] == graded["last_grade"]["p_known"] and graded["skills"][skill]
    view = api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    assert [m["role"] for m in view["messages"]] == ["user", "assistant"] * 2
    assert view["messages"][2]["content"] == answer_of(served["current_item"]["prompt"])
    assert view["profile"]["pace"] == "moderate" and view["mastery"] == graded["mastery"]
    assert view["negotiations"] == [] and view["status"] == "active" and view["turns"] == 2


def test_streamed_turn_sends_stages_tokens_then_state(api: Api) -> None:
    _, headers, thread = api.student()
    response = api.client.post(f"/v1/threads/{thread}/messages", json={"content": "practice linear equations"},
                               headers={**headers, "Accept": "text/event-stream"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "stage" and events[0][1] == {"node": "understand", "status": "started"}
    assert "token" in names and names[-1] == "state" and names.index("token") < len(names) - 1
    text = "".join(data["text"] for name, data in events if name == "token")
    final = events[-1][1]
    assert text == final["replies"][0] and final["current_item"]["prompt"] in text
    assert {"profile", "mastery", "negotiations", "skills"} <= set(final)


def test_struggling_opens_a_negotiation_with_typed_messages(api: Api) -> None:
    _, headers, thread = api.student()
    item = api.say(headers, thread, "practice linear equations")["current_item"]
    for _ in range(3):
        turn = api.say(headers, thread, answer_of(item["prompt"]))
        item = turn["current_item"]
    view = api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    assert view["negotiations"], "three wrong answers should open a pace negotiation"
    types = [m["type"] for m in view["negotiations"][0]["messages"]]
    assert types[0] in ("PACE_ADJUSTMENT", "PROPOSE") and types[-1] in ("COMMIT", "ESCALATE")


def test_students_never_see_each_others_threads(api: Api) -> None:
    _, owner, thread = api.student("c1")
    api.say(owner, thread, "practice linear equations")
    _, intruder, _ = api.student("c1")
    missing = api.client.get("/v1/threads/" + "f" * 32, headers=intruder)
    for response in (api.client.get(f"/v1/threads/{thread}", headers=intruder),
                     api.client.post(f"/v1/threads/{thread}/messages", headers=intruder, json={"content": "hi"})):
        # The same answer as for a thread that does not exist (each request has its own trace id).
        assert response.status_code == 404
        assert {**response.json()["error"], "trace_id": ""} == {**missing.json()["error"], "trace_id": ""}
    assert thread not in [t["thread_id"] for t in api.client.get("/v1/threads", headers=intruder).json()]
    assert len(api.client.get(f"/v1/threads/{thread}", headers=owner).json()["messages"]) == 2


def test_teachers_read_their_cohort_and_admins_read_all(api: Api) -> None:
    _, student, thread = api.student("c1")
    api.say(student, thread, "practice linear equations")
    teacher, outsider = api.login(api.user("teacher", "c1")), api.login(api.user("teacher", "c2"))
    admin = api.login(api.user("admin", None))
    assert api.client.get(f"/v1/threads/{thread}", headers=teacher).status_code == 200
    assert [t["thread_id"] for t in api.client.get("/v1/threads", headers=teacher).json()] == [thread]
    assert api.client.get(f"/v1/threads/{thread}", headers=outsider).status_code == 404
    assert api.client.get("/v1/threads", headers=outsider).json() == []
    assert api.client.get(f"/v1/threads/{thread}", headers=admin).status_code == 200
    posted = api.client.post(f"/v1/threads/{thread}/messages", headers=teacher, json={"content": "hi"})
    assert posted.status_code == 403
    assert api.client.post("/v1/threads", headers=teacher).status_code == 403


def test_a_conversation_resumes_after_a_restart(start_api: Callable[..., Api]) -> None:
    first = start_api()
    user, headers, thread = first.student()
    item = first.say(headers, thread, "practice linear equations")["current_item"]
    first.client.__exit__(None, None, None)  # the server stops; checkpoints and SQL stay on disk
    second = start_api()
    headers = second.login(user)
    view = second.client.get(f"/v1/threads/{thread}", headers=headers).json()
    assert len(view["messages"]) == 2
    graded = second.say(headers, thread, answer_of(item["prompt"]))
    assert graded["intent"] == "answer" and f".{item['skill']}." in graded["last_grade"]["item_id"]


def test_thread_and_turn_responses_keep_the_style_posterior_inside(api: Api) -> None:
    student, headers, thread = api.student("c1")
    served = api.say(headers, thread, "practice linear equations")
    graded = api.say(headers, thread, answer_of(served["current_item"]["prompt"]))
    stored = api.services.learner.profile(student["student_id"])
    assert stored["style_counts"], "the answer taught the style posterior something"  # so it could leak
    streamed = api.client.post(f"/v1/threads/{thread}/messages", json={"content": "practice"},
                               headers={**headers, "Accept": "text/event-stream"})
    state = sse_events(streamed.text)[-1][1]
    view = api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    record = api.client.get(f"/v1/dashboards/students/{student['id']}",
                            headers=api.login(api.user("teacher", "c1"))).json()
    shown = {"pace", "learning_style", "language", "cultural_context", "strengths", "weaknesses", "goals",
             "style_override"}
    for profile in (served["profile"], graded["profile"], state["profile"]):
        assert set(profile) == shown
    for profile in (view["profile"], record["profile"]):  # with the latest adaptations and their reasons
        assert set(profile) == shown | {"adaptations"}
    assert graded["profile"]["learning_style"] == stored["learning_style"]  # the summary the student sees
    documented = api.client.get("/openapi.json").json()["components"]["schemas"]["ProfileOut"]["properties"]
    assert set(documented) == shown | {"adaptations"}

"""Settings and reflections over HTTP: a student's own settings, strict input, and who reads reflections."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import Api, configure
from tutormesh.core.settings import Settings

pytestmark = pytest.mark.integration
WRONG = "x = 12345"


def wrong_for(turn: dict[str, Any]) -> str:
    return WRONG if "x" in turn["current_item"]["prompt"] else "12345"


def settled(profile: dict[str, Any]) -> dict[str, Any]:
    """A profile without the history window's start (it moves with the clock)."""
    return {**profile, "history": {k: v for k, v in profile["history"].items() if k != "since"}}


def a_session(api: Api, headers: dict[str, str], thread: str, *, goodbye: str | None = "bye") -> dict[str, Any]:
    served = api.say(headers, thread, "practice linear equations")
    api.say(headers, thread, wrong_for(served))
    return api.say(headers, thread, goodbye) if goodbye else served


def test_a_student_reads_and_changes_their_settings(profile: Settings, start_api: Callable[..., Api],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if profile.is_production:
        configure(monkeypatch, jwt_secret="s" * 40)
    api = start_api()
    _, headers, thread = api.student()
    mine = api.client.get("/v1/me/profile", headers=headers)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["language"] == "en" and body["cultural_context"] == "" and body["style_override"] is None
    assert {c["value"] for c in body["choices"]["cultural_context"]} == {"india", "us", "latam", "europe"}
    skill = body["choices"]["goals"][3]["value"]
    changed = api.client.patch("/v1/me/profile", headers=headers, json={
        "language": "hi", "cultural_context": "india", "goals": [skill, skill], "style_override": "worked_example"})
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert (after["language"], after["cultural_context"], after["goals"], after["style_override"]) == (
        "hi", "india", [skill], "worked_example")
    # The agent uses them: the next item leads with the chosen type, in Hindi.
    turn = api.say(headers, thread, "अभ्यास")
    assert "हल किया हुआ उदाहरण" in turn["replies"][-1]
    assert turn["profile"]["style_override"] == "worked_example"
    view = api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    kinds = {a["kind"]: a for a in view["profile"]["adaptations"]}
    assert kinds["style_override"]["before"] is None and kinds["style_override"]["after"] == "worked_example"
    assert kinds["cultural_context"]["reason"] == "cultural_context: set by the student in their settings"
    cleared = api.client.patch("/v1/me/profile", headers=headers, json={"style_override": None})
    assert cleared.json()["style_override"] is None and cleared.json()["language"] == "hi"


@pytest.mark.parametrize(("body", "reason"), [
    ({"language": "fr"}, "language: Input should be 'en', 'hi' or 'es'"),
    ({"cultural_context": "mars"}, "cultural_context"),
    ({"goals": ["no-such-skill"]}, "unknown skill 'no-such-skill'"),
    ({"goals": "linear-equations"}, "goals: Input should be a valid list"),
    ({"goals": [f"g{i}" for i in range(21)]}, "at most 20 items"),
    ({"style_override": "audio"}, "style_override"),
    ({"language": None}, "language: Input should be 'en', 'hi' or 'es'"),
    ({"pace": "fast"}, "pace: Extra inputs are not permitted"),
])
def test_bad_settings_are_refused_with_a_reason_and_change_nothing(api: Api, body: dict[str, Any],
                                                                   reason: str) -> None:
    _, headers, _ = api.student()
    before = settled(api.client.get("/v1/me/profile", headers=headers).json())
    refused = api.client.patch("/v1/me/profile", headers=headers, json=body)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid"
    assert reason in refused.json()["error"]["message"], refused.json()
    assert settled(api.client.get("/v1/me/profile", headers=headers).json()) == before


def test_settings_need_a_signed_in_student(api: Api) -> None:
    assert api.client.get("/v1/me/profile").status_code == 401
    assert api.client.patch("/v1/me/profile", json={"language": "es"}).status_code == 401
    teacher = api.login(api.user("teacher", "c1"))
    refused = api.client.patch("/v1/me/profile", headers=teacher, json={"language": "es"})
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "only students have a learner profile"


def test_reflections_for_the_student_and_their_cohorts_teacher_only(api: Api) -> None:
    student, headers, thread = api.student(cohort="9a")
    assert api.client.get("/v1/me/reflections", headers=headers).json() == []
    bye = a_session(api, headers, thread)
    assert bye["intent"] == "goodbye" and "Answers this session: 1, right: 0." in bye["replies"][0]
    mine = api.client.get("/v1/me/reflections", headers=headers).json()
    assert len(mine) == 1 and mine[0]["trigger"] == "goodbye" and mine[0]["summary"] in bye["replies"][0]
    path = f"/v1/students/{student['id']}/reflections"
    teacher, other = api.login(api.user("teacher", "9a")), api.login(api.user("teacher", "9b"))
    assert api.client.get(path, headers=teacher).json() == mine
    assert api.client.get(path, headers=api.login(api.user("admin", None))).json() == mine
    assert api.client.get(path, headers=other).status_code == 404  # not revealed to another cohort's teacher
    assert api.client.get(path, headers=api.login(api.user("tutor", "9a"))).status_code == 403
    assert api.client.get(path, headers=headers).status_code == 403
    assert api.client.get(f"/v1/students/{'0' * 32}/reflections", headers=teacher).status_code == 404
    assert api.client.get("/v1/students/not-an-id/reflections", headers=teacher).status_code == 422
    audited = [e["action"] for e in api.client.get("/v1/audit", headers=api.login(api.user("admin", None))).json()]
    assert "read_reflections" in audited


def test_an_idle_pause_stores_the_sessions_reflection_once(start_api: Callable[..., Api]) -> None:
    api = start_api(agent_idle_minutes="10")
    _, headers, thread = api.student()
    a_session(api, headers, thread, goodbye=None)
    served = api.say(headers, thread, "practice")
    api.say(headers, thread, wrong_for(served))
    api.services.lifecycle.sweep(datetime.now(UTC) + timedelta(minutes=11))
    stored = api.client.get("/v1/me/reflections", headers=headers).json()
    assert [r["trigger"] for r in stored] == ["idle"] and stored[0]["applied_at"] is None
    assert api.services.lifecycle.sweep(datetime.now(UTC) + timedelta(minutes=30)) == []  # nothing new to pause
    assert len(api.client.get("/v1/me/reflections", headers=headers).json()) == 1


def test_the_30_day_history_for_the_student_and_their_cohorts_teacher(api: Api) -> None:
    student, headers, thread = api.student(cohort="9a")
    assert api.client.get("/v1/me/profile", headers=headers).json()["history"]["sessions"] == 0
    a_session(api, headers, thread)  # one wrong answer, then "bye"
    served = api.say(headers, thread, "practice linear equations")  # the next session, still open
    api.say(headers, thread, wrong_for(served))
    mine = api.client.get("/v1/me/profile", headers=headers).json()["history"]
    assert (mine["days"], mine["sessions"], mine["answers"], mine["right"], mine["accuracy"]) == (30, 2, 2, 0, 0.0)
    assert [s["open"] for s in mine["recent_sessions"]] == [True, False]
    closed = mine["recent_sessions"][1]
    reflected = api.client.get("/v1/me/reflections", headers=headers).json()[0]["summary"]
    assert closed["reflection"] == reflected and mine["reflections"][0]["summary"] == reflected
    assert mine["skills"][0]["answers"] >= 1 and mine["skills"][0]["title"] != mine["skills"][0]["skill"]
    assert mine["time_on_task_s"] >= 0 and closed["skills"]
    path = f"/v1/dashboards/students/{student['id']}"
    teacher, other = api.login(api.user("teacher", "9a")), api.login(api.user("teacher", "9b"))
    record = api.client.get(path, headers=teacher)
    assert record.status_code == 200, record.text
    assert settled({"history": record.json()["session_history"]}) == settled({"history": mine})
    assert "goals" in record.json()["profile"] and "strengths" in record.json()["profile"]
    assert record.json()["profile"]["adaptations"]  # with their reasons
    by_admin = api.client.get(path, headers=api.login(api.user("admin", None))).json()["session_history"]
    assert settled({"history": by_admin}) == settled({"history": mine})
    # Another cohort's teacher is answered as for a missing student (docs/api.md: existence not revealed).
    assert api.client.get(path, headers=other).status_code == 404
    assert api.client.get(path, headers=other).json()["error"]["message"] == api.client.get(
        f"/v1/dashboards/students/{'0' * 32}", headers=other).json()["error"]["message"] == "student not found"
    assert api.client.get(path, headers=headers).status_code == 403  # a student is not staff


@pytest.mark.parametrize("language", ["es", "hi"])
def test_a_students_panels_name_skills_in_their_language(api: Api, language: str) -> None:
    from tutormesh.tools.curriculum import load_curriculum

    student, headers, thread = api.student(cohort="9a")
    assert api.client.patch("/v1/me/profile", headers=headers, json={"language": language}).status_code == 200
    served = api.say(headers, thread, "practicar ecuaciones lineales" if language == "es" else "अभ्यास")
    turn = api.say(headers, thread, wrong_for(served))
    skill = served["current_item"]["skill"]
    english = {t.skill: t.title for t in load_curriculum().topics()}[skill]
    title = {t.skill: t.title for t in load_curriculum(language).topics()}[skill]
    assert title != english  # the curriculum translates this topic's title
    mine = api.client.get("/v1/me/profile", headers=headers).json()
    assert mine["language"] == language
    assert [s["title"] for s in mine["history"]["skills"]] == [title]
    assert dict((g["value"], g["title"]) for g in mine["choices"]["goals"])[skill] == title
    assert turn["skills"][skill] == title
    assert api.client.get(f"/v1/threads/{thread}", headers=headers).json()["skills"][skill] == title
    # Staff read the same record in English.
    teacher = api.login(api.user("teacher", "9a"))
    assert api.client.get(f"/v1/threads/{thread}", headers=teacher).json()["skills"][skill] == english
    record = api.client.get(f"/v1/dashboards/students/{student['id']}", headers=teacher).json()
    assert [s["title"] for s in record["session_history"]["skills"]] == [english]

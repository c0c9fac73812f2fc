"""Inputs that used to give 500s: lone surrogates, NUL bytes, huge questions, racing submissions, Redis down."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import PASSWORD, Api
from tutormesh.assessment import quizzes
from tutormesh.core.errors import Conflict
from tutormesh.core.settings import Settings

pytestmark = pytest.mark.integration
QUIZ = {"title": "Check", "questions": [{"kind": "symbolic", "prompt": "Solve x + 1 = 2", "spec": {"answer": "x = 1"}}]}


def _invalid(response: Any, where: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid" and where in error["message"], error


def test_a_lone_surrogate_in_a_message_is_422_on_both_databases(profile: Settings,
                                                                start_api: Callable[..., Api]) -> None:
    api = start_api(jwt_secret="s" * 40)  # required on Postgres
    _, headers, thread = api.student()
    raw = b'{"content": "x = \\ud800"}'
    response = api.client.post(f"/v1/threads/{thread}/messages", headers={**headers,
                               "Content-Type": "application/json"}, content=raw)
    _invalid(response, "content: lone surrogate")
    key = api.client.post(f"/v1/threads/{thread}/messages", headers={**headers, "Content-Type": "application/json"},
                          content=b'{"\\udc00": "x"}')
    _invalid(key, "lone surrogate")
    assert api.client.get(f"/v1/threads/{thread}", headers=headers).json()["messages"] == []


def test_nul_is_422_everywhere_on_both_databases(profile: Settings, start_api: Callable[..., Api]) -> None:
    api = start_api(jwt_secret="s" * 40)  # required on Postgres
    teacher = api.login(api.user("teacher", "9a"))
    _invalid(api.client.post("/v1/auth/token", data={"username": "ana\x00", "password": "whatever-pw"}), "username")
    _invalid(api.client.post("/v1/auth/token", files={"username": (None, "a\x00"), "password": (None, "x")}),
             "username")
    _invalid(api.client.get("/v1/quizzes/abc%00def", headers=teacher), "path")
    _invalid(api.client.get("/v1/cohorts/9a%00/students", headers=teacher), "path")
    quiz = api.client.post("/v1/quizzes", headers=teacher, json=QUIZ).json()
    _invalid(api.client.get(f"/v1/quizzes/{quiz['id']}/analysis", headers=teacher, params={"cohort": "9a\x00"}),
             "query.cohort")
    _invalid(api.client.post("/v1/quizzes", headers=teacher, json={**QUIZ, "title": "T\x00"}),
             "title: must not contain NUL")
    assert api.client.post(f"/v1/quizzes/{quiz['id']}/assignments", headers=teacher,
                           json={"cohort": "9a"}).status_code == 201
    student = api.login(api.user("student", "9a"))
    qid = quiz["questions"][0]["id"]
    _invalid(api.client.post(f"/v1/quizzes/{quiz['id']}/submissions", headers=student,
                             json={"answers": {qid: "x = 1\x00"}}), f"answers.{qid}: must not contain NUL")
    ok = api.client.post(f"/v1/quizzes/{quiz['id']}/submissions", headers=student, json={"answers": {qid: "x = 1"}})
    assert ok.status_code == 202  # the rejected one stored nothing


def test_a_question_too_long_in_tokens_is_422(api: Api) -> None:
    _, headers, thread = api.student()
    response = api.client.post(f"/v1/threads/{thread}/messages", headers=headers, json={"content": "😀" * 2000})
    _invalid(response, "tokens")
    fine = api.client.post(f"/v1/threads/{thread}/messages", headers=headers,
                           json={"content": "why do we flip the sign? " * 20})
    assert fine.status_code == 200, fine.text


def test_two_racing_submissions_of_one_quiz_give_one_conflict(profile: Settings, start_api: Callable[..., Api]) -> None:
    api = start_api(jwt_secret="s" * 40)  # required on Postgres
    teacher = api.login(api.user("teacher", "9a"))
    quiz = api.client.post("/v1/quizzes", headers=teacher, json=QUIZ).json()
    student = api.user("student", "9a")
    sessions = api.services.accounts.sessions
    outcome: list[object] = []

    def second() -> None:
        try:
            with sessions.begin() as s:
                outcome.append(quizzes.create_submission(s, quiz["id"], student_id=student["student_id"],
                                                         cohort="9a", answers={}))
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    with sessions.begin() as s:
        quizzes.create_submission(s, quiz["id"], student_id=student["student_id"], cohort="9a", answers={})
        racer = threading.Thread(target=second)
        racer.start()  # it passes the "already submitted?" check, then waits on our uncommitted row
        time.sleep(0.5)
    racer.join(15)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome


def test_parallel_submissions_through_the_api_are_one_202_and_one_409(api: Api) -> None:
    teacher = api.login(api.user("teacher", "9a"))
    quiz = api.client.post("/v1/quizzes", headers=teacher, json=QUIZ).json()
    api.client.post(f"/v1/quizzes/{quiz['id']}/assignments", headers=teacher, json={"cohort": "9a"})
    student = api.login(api.user("student", "9a"))
    codes: list[int] = []
    start = threading.Barrier(4)

    def submit() -> None:
        start.wait()
        codes.append(api.client.post(f"/v1/quizzes/{quiz['id']}/submissions", headers=student,
                                     json={"answers": {}}).status_code)

    racers = [threading.Thread(target=submit) for _ in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
    assert sorted(codes) == [202, 409, 409, 409]


def test_a_question_when_the_cache_store_is_down_still_gets_an_answer(start_api: Callable[..., Api]) -> None:
    api = start_api(cache_url="redis://127.0.0.1:1/0", llm_enabled="false")
    _, headers, thread = api.student()
    api.say(headers, thread, "practice linear equations")
    turn = api.say(headers, thread, "why do we flip the sign when we move a term?")
    assert turn["intent"] == "ask" and turn["replies"], turn


def test_the_sign_in_form_survives_odd_input(api: Api) -> None:
    user = api.user()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for raw in [f"username={user['username']}%ED%A0%80&password={PASSWORD}".encode(),
                b"username=" + b"x" * 5000 + b"&password=y", b"username=%FF%FE&password=%00"]:
        response = api.client.post("/v1/auth/token", headers=form, content=raw)
        assert response.status_code in (401, 422), response.text

"""Through the API with a real worker: a teacher assigns a quiz, students submit, results stream back."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.integration.test_worker_delivery import WorkerProcess
from tutormesh.core.settings import get_settings

pytestmark = pytest.mark.integration
QUIZ = {"title": "Week 5 check", "subject": "math", "questions": [
    {"kind": "choice", "prompt": "2 + 3 * 4 = ?", "topic": "order-of-operations",
     "spec": {"choices": {"a": "20", "b": "14"}, "answer": "b"}},
    {"kind": "open", "prompt": "How do you solve x + 3 = 5?", "points": 2, "spec": {"rubric": {"criteria": [
        {"id": "inverse", "description": "Undo the +3", "points": 1, "keywords": ["subtract|minus"]},
        {"id": "check", "description": "Check the answer", "points": 1, "keywords": ["check|substitute"]}]}}},
    {"kind": "code", "prompt": "Write add(a, b).", "points": 2,
     "spec": {"tests": "from solution import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"}},
]}


def _graded(api: Api, headers: dict[str, str], submission_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        view: dict[str, Any] = api.client.get(f"/v1/submissions/{submission_id}", headers=headers).json()
        if view["status"] == "graded":
            return view
        assert time.monotonic() < deadline, view
        time.sleep(0.1)


def test_teacher_assigns_students_submit_and_see_feedback(api: Api, tmp_path: Path) -> None:
    teacher = api.login(api.user("teacher", "c1"))
    quiz = api.client.post("/v1/quizzes", headers=teacher, json=QUIZ)
    assert quiz.status_code == 201, quiz.text
    quiz_id, (q1, q2, q3) = quiz.json()["id"], [q["id"] for q in quiz.json()["questions"]]
    assert "answer" not in json.dumps(quiz.json()["questions"][0]) and "spec" not in quiz.json()["questions"][0]
    assert api.client.post(f"/v1/quizzes/{quiz_id}/assignments", headers=teacher,
                           json={"cohort": "c2"}).status_code == 403
    assert api.client.post(f"/v1/quizzes/{quiz_id}/assignments", headers=teacher,
                           json={"cohort": "c1"}).status_code == 201
    outsider = api.login(api.user("student", "c2"))
    assert api.client.get(f"/v1/quizzes/{quiz_id}", headers=outsider).status_code == 404

    worker = WorkerProcess(get_settings(), tmp_path / "worker.log")
    try:
        ana, ben = api.login(api.user("student", "c1")), api.login(api.user("student", "c1"))
        assert api.client.get(f"/v1/quizzes/{quiz_id}", headers=ana).status_code == 200
        sent = api.client.post(f"/v1/quizzes/{quiz_id}/submissions", headers=ana, json={"answers": {
            q1: "b", q2: "Subtract 3 from both sides, then check.", q3: "def add(a, b):\n    return a + b\n"}})
        assert sent.status_code == 202, sent.text
        again = api.client.post(f"/v1/quizzes/{quiz_id}/submissions", headers=ana, json={"answers": {q1: "a"}})
        assert again.status_code == 409
        with api.client.stream("GET", f"/v1/submissions/{sent.json()['submission_id']}/events", headers=ana) as s:
            frames = "".join(s.iter_text())
        assert "event: result" in frames and '"score": 5.0' in frames
        other = api.client.post(f"/v1/quizzes/{quiz_id}/submissions", headers=ben, json={"answers": {
            q1: "a", q2: "no idea", q3: "def add(a, b):\n    return 0\n"}}).json()
        view = _graded(api, ben, other["submission_id"])
        assert (view["score"], view["max_score"]) == (0.0, 5.0)
        assert api.client.get(f"/v1/submissions/{other['submission_id']}", headers=ana).status_code == 404
    finally:
        worker.stop()
    analysis = api.client.get(f"/v1/quizzes/{quiz_id}/analysis", headers=teacher)
    assert analysis.status_code == 200, analysis.text
    first = analysis.json()["items"][0]
    assert (first["attempts"], first["pct_correct"], first["wrong_answers"]) == (2, 50.0, [{"answer": "a",
                                                                                            "count": 1}])
    assert api.client.get(f"/v1/quizzes/{quiz_id}/analysis", headers=teacher,
                          params={"cohort": "c2"}).status_code == 404
    assert api.client.get(f"/v1/quizzes/{quiz_id}/analysis", headers=ana).status_code == 403
    assert api.client.get(f"/v1/quizzes/{quiz_id}/flags", headers=teacher).json() == []

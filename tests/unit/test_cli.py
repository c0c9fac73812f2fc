"""The `tutormesh` command line: grading, batch grading with bad lines, a piped chat session."""

from __future__ import annotations

import io
import json

import pytest

from tutormesh.cli import _account_student_id, main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_grade_prints_json_with_correct_and_feedback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "grade", "--expected", "x = 2 or x = -2", "--answer", "-2, 2")
    assert code == 0 and json.loads(out)["correct"] is True
    code, out, _ = run(capsys, "grade", "--expected", "x = 3", "--answer", "y = 3")
    result = json.loads(out)
    assert result["correct"] is False and "y" in result["feedback"]


def test_grade_without_answer_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "grade", "--expected", "3")
    assert code == 2 and out == "" and "--answer" in err


def test_jsonl_grades_every_good_line_and_reports_bad_ones(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (
        '{"expected": "1/2", "answer": "0.5"}\nnot json\n{"expected": 5}\n\n'
        '{"id": 7, "expected": "x>3", "answer": "(3, oo)"}\n'
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    code, out, _ = run(capsys, "grade", "--jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(rows) == 4
    assert rows[0]["correct"] is True and rows[3] == {**rows[3], "id": 7, "correct": True}
    assert "not valid JSON" in rows[1]["error"] and rows[2]["line"] == 3


def test_missing_jsonl_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "grade", "--jsonl", "/no/such/file.jsonl")
    assert code == 1 and "No such file" in err and "Traceback" not in err


def test_chat_session_practises_and_shows_mastery(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("I want to practice slope\nx = 12345\n/quit\n"))
    code, out, _ = run(capsys, "chat", "--student", "ana")
    assert code == 0
    assert "Level" in out and "Not quite" in out and "mastery | Slope" in out


def test_chat_minimises_an_under_13_students_words_as_the_api_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutormesh.tools.store import get_store

    monkeypatch.setenv("TUTORMESH_PASSWORD", "correct-horse-9")
    assert run(capsys, "user", "add", "kid", "--role", "student")[0] == 0
    assert run(capsys, "student", "consent", "kid", "--dob-band", "under13")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("I want to practice slope\nwhy? I live at 12 Elm Street\n/quit\n"))
    code, out, _ = run(capsys, "chat", "--student", "kid")
    assert code == 0 and "tutor>" in out
    store = get_store()
    student_id = _account_student_id(store, "kid")
    stored = [m["content"] for m in store.history(f"cli-{student_id}") if m["role"] == "user"]
    assert len(stored) == 2 and not any("Elm" in text for text in stored), stored

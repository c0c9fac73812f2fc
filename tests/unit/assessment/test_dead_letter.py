"""A submission that cannot be graded ends as `errored` with a reason staff can see; it is never re-sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.assessment import grading, quizzes
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.models import utcnow
from tutormesh.core.models.assessment import ReviewFlag, Submission
from tutormesh.core.settings import Settings
from tutormesh.tools.store import prepare_database


@pytest.fixture
def sessions(fresh_profile: Settings) -> sessionmaker[Session]:
    """A database of this test's own: the sweeper's query must see no other test's submissions."""
    prepare_database(fresh_profile)
    return sessionmaker_for(fresh_profile)


def _submission(sessions: sessionmaker[Session], answer: str) -> str:
    quiz = quizzes.QuizIn(title="Q", questions=[dict(kind="symbolic", prompt="x + 1 = 2",
                                                                   spec={"answer": "x = 1"})])
    with sessions.begin() as s:
        quiz_id = str(quizzes.create_quiz(s, quiz, created_by="teacher")["id"])
        return quizzes.create_submission(s, quiz_id, student_id="stu-1", cohort="9a",
                                         answers={f"{quiz_id}.q1": answer})


def _stale(sessions: sessionmaker[Session], sid: str) -> None:
    with sessions.begin() as s:
        s.execute(update(Submission).where(Submission.id == sid)
                  .values(dispatched_at=utcnow() - timedelta(minutes=5)))


def test_a_poison_answer_is_dead_lettered_not_retried(sessions: sessionmaker[Session],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sid = _submission(sessions, "x = 1")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("the grader cannot read this answer")

    monkeypatch.setattr(grading, "grade_question", broken)
    assert grading.grade_submission(sessions, sid) == {"status": "errored"}
    with sessions() as s:
        sub = s.get_one(Submission, sid)
        assert sub.status == "errored" and sub.error == "ValueError: the grader cannot read this answer"
        flag = s.scalar(select(ReviewFlag).where(ReviewFlag.submission_id == sid))
        assert flag is not None and "grading failed" in flag.reason
        view = quizzes.submission_view(s, sid)
    assert view["status"] == "errored" and view["error"].startswith("ValueError")
    _stale(sessions, sid)
    assert grading.claim_stale(sessions, older_than_s=30) == []  # the sweeper never re-sends it
    assert grading.grade_submission(sessions, sid) == {"status": "duplicate"}


@pytest.mark.postgres
def test_a_nul_that_reached_postgres_ends_errored(postgres_url: str, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: object) -> None:
    settings = Settings(data_dir=str(tmp_path), database_url=postgres_url)  # type: ignore[arg-type]
    prepare_database(settings)
    sessions = sessionmaker_for(settings)
    sid = _submission(sessions, "x = 1\x00")  # the API refuses it now; older rows may hold one
    outcome = grading.grade_submission(sessions, sid)
    with sessions() as s:
        sub = s.get_one(Submission, sid)
    assert outcome == {"status": "errored"} and sub.status == "errored"
    assert sub.error is not None and "NUL" in sub.error and "x = 1" not in sub.error


def test_a_submission_that_never_gets_a_result_gives_up(sessions: sessionmaker[Session]) -> None:
    sid = _submission(sessions, "x = 1")
    with sessions.begin() as s:
        s.execute(update(Submission).where(Submission.id == sid).values(dispatches=10))
    _stale(sessions, sid)
    assert grading.claim_stale(sessions, older_than_s=30, max_dispatches=10) == []
    with sessions() as s:
        sub = s.get_one(Submission, sid)
    assert sub.status == "errored" and sub.error == "no result after 10 dispatches"

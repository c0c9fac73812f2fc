"""Grading is idempotent; quiz events reach the student (BKT) and SME agents; the 60% rule re-teaches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.agents import reteach
from tutormesh.assessment import events, grading, quizzes
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.models import CurriculumPlan, LearningSession, Mastery, Student, ThreadMessage, utcnow
from tutormesh.core.models.assessment import AssessmentEvent, Explanation, QuestionResult, Submission
from tutormesh.core.settings import Settings
from tutormesh.tools.store import prepare_database

TOPIC = "one-step-equations"


@pytest.fixture
def sessions(isolated_settings: Settings) -> sessionmaker[Session]:
    prepare_database(isolated_settings)
    return sessionmaker_for(isolated_settings)


def _quiz(sessions: sessionmaker[Session]) -> str:
    quiz = quizzes.QuizIn(title="Equations", questions=[
        dict(kind="choice", prompt="x + 3 = 5, x = ?", topic=TOPIC,
                           spec={"choices": {"a": "2", "b": "8"}, "answer": "a"}),
        dict(kind="choice", prompt="2x = 8, x = ?", topic=TOPIC,
                           spec={"choices": {"a": "4", "b": "16"}, "answer": "a"})])
    with sessions.begin() as s:
        return str(quizzes.create_quiz(s, quiz, created_by="teacher")["id"])


def _submit(sessions: sessionmaker[Session], quiz_id: str, student: str, q1: str, q2: str = "a") -> str:
    with sessions.begin() as s:
        sid = quizzes.create_submission(s, quiz_id, student_id=student, cohort="9A",
                                        answers={f"{quiz_id}.q1": q1, f"{quiz_id}.q2": q2})
    outcome = grading.grade_submission(sessions, sid)
    events.relay(sessions, outcome["event_ids"])
    return sid


def test_grading_twice_stores_one_result_and_one_event(sessions: sessionmaker[Session]) -> None:
    quiz_id = _quiz(sessions)
    sid = _submit(sessions, quiz_id, "ana", "a")
    assert grading.grade_submission(sessions, sid) == {"status": "duplicate"}
    assert events.relay(sessions) == 0  # nothing left undelivered
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(QuestionResult)) == 2
        assert s.scalar(select(func.count()).select_from(AssessmentEvent)) == 1
        assert s.get_one(Mastery, ("ana", TOPIC)).attempts == 2  # two answers on the topic, applied once
    assert grading.grade_submission(sessions, "no-such-submission") == {"status": "missing"}


def test_only_stale_ungraded_submissions_are_claimed_once(sessions: sessionmaker[Session]) -> None:
    quiz_id = _quiz(sessions)
    graded = _submit(sessions, quiz_id, "ana", "a")
    with sessions.begin() as s:
        waiting = quizzes.create_submission(s, quiz_id, student_id="ben", cohort="9A", answers={})
        s.execute(update(Submission).values(dispatched_at=utcnow() - timedelta(minutes=5)))
    assert grading.claim_stale(sessions, older_than_s=30) == [waiting]
    assert grading.claim_stale(sessions, older_than_s=30) == []  # re-claimed only after another window
    assert graded != waiting


def test_quiz_complete_updates_mastery_and_the_sme_eases_the_plan(sessions: sessionmaker[Session]) -> None:
    quiz_id = _quiz(sessions)
    _submit(sessions, quiz_id, "ana", "b", "b")  # 0 of 2
    with sessions() as s:
        mastery = s.get_one(Mastery, ("ana", TOPIC))
        plan = s.get_one(CurriculumPlan, ("ana", "math"))
    assert (mastery.attempts, mastery.correct, mastery.fail_streak) == (2, 0, 2)
    assert plan.difficulty_ramp and reteach.RAMP in plan.adjustments


def test_sixty_percent_wrong_sends_an_explanation_to_those_who_missed_it(sessions: sessionmaker[Session]) -> None:
    quiz_id = _quiz(sessions)
    with sessions.begin() as s:
        s.add(Student(id="cat", name="cat"))
        s.flush()
        s.add(LearningSession(thread_id="t-cat", student_id="cat"))  # cat has a conversation to post into
    _submit(sessions, quiz_id, "ana", "a")
    _submit(sessions, quiz_id, "ben", "a")
    _submit(sessions, quiz_id, "cat", "b")
    _submit(sessions, quiz_id, "dan", "b")
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Explanation)) == 0  # 2 of 4 answers: under the minimum
    _submit(sessions, quiz_id, "eve", "b")  # 3 of 5 wrong = 60%
    late = _submit(sessions, quiz_id, "fay", "b")  # missed it after the rule fired: gets it too
    with sessions() as s:
        explanation = s.scalars(select(Explanation)).one()
        told = sorted(s.scalars(select(AssessmentEvent.student_id).where(AssessmentEvent.kind == "explanation_ready")))
        posted = s.scalars(select(ThreadMessage.content).where(ThreadMessage.thread_id == "t-cat")).one()
        view = quizzes.submission_view(s, late)
    assert explanation.question_id == f"{quiz_id}.q1" and explanation.cohort == "9A"
    assert "x + 3 - 3 = 5 - 3" in explanation.text and "Answer: x = 2" in explanation.text  # this question, solved
    assert "'b' (8)" in explanation.text and "without changing its sign" in explanation.text  # the mistake behind it
    assert told == ["cat", "dan", "eve", "fay"]  # everyone who missed it, each once; not ana or ben
    assert posted == explanation.text
    assert view["explanations"][0]["question_id"] == f"{quiz_id}.q1"


def test_reteach_rule_and_difficulty_shift_decisions() -> None:
    assert reteach.needs_reteach(3, 5) and not reteach.needs_reteach(2, 5) and not reteach.needs_reteach(3, 4)
    assert reteach.needs_reteach(18, 30) and not reteach.needs_reteach(17, 30)
    assert reteach.difficulty_shift(0.9, {"difficulty_ramp": True, "adjustments": [reteach.RAMP]}) == {
        "difficulty_ramp": False, "adjustments": []}
    assert reteach.difficulty_shift(0.7, {"difficulty_ramp": False, "adjustments": []}) is None

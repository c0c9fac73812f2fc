"""Item analysis on a small hand-computed example, graded in-process (no worker needed)."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.assessment import analysis, grading, quizzes
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.settings import Settings
from tutormesh.tools.store import prepare_database

# Five students, three one-point choice questions (correct: a, b, c). Totals 3, 2, 1, 1, 0:
# mean 1.4, population variance 15/5 - 1.96 = 1.04.
ANSWERS = {
    "ann": ("a", "b", "c"),  # 3
    "ben": ("a", "b", "x"),  # 2
    "cat": ("a", "a", "x"),  # 1
    "dan": ("b", "a", "c"),  # 1
    "eve": ("c", "a", "x"),  # 0
}


def _r(m1: float, m0: float, p: float) -> float:
    return (m1 - m0) / math.sqrt(1.04) * math.sqrt(p * (1 - p))


@pytest.fixture
def sessions(isolated_settings: Settings) -> sessionmaker[Session]:
    prepare_database(isolated_settings)
    return sessionmaker_for(isolated_settings)


def _take_quiz(sessions: sessionmaker[Session]) -> str:
    choices = {"a": "A", "b": "B", "c": "C", "x": "X"}
    quiz = quizzes.QuizIn(title="Hand-computed", questions=[
        dict(kind="choice", prompt=f"Q{n}", spec={"choices": choices, "answer": key})
        for n, key in enumerate("abc", 1)])
    with sessions.begin() as s:
        quiz_id = quizzes.create_quiz(s, quiz, created_by="t")["id"]
        ids = [quizzes.create_submission(s, quiz_id, student_id=name, cohort="9A",
                                         answers={f"{quiz_id}.q{n}": a for n, a in enumerate(given, 1)})
               for name, given in ANSWERS.items()]
    for sid in ids:
        assert grading.grade_submission(sessions, sid)["status"] == "graded"
    return quiz_id


def test_item_analysis_matches_the_hand_computed_numbers(sessions: sessionmaker[Session]) -> None:
    quiz_id = _take_quiz(sessions)
    with sessions() as s:
        items = analysis.item_analysis(s, quiz_id, cohort="9A")
    q1, q2, q3 = items
    # Q1 right: ann, ben, cat (3, 2, 1) -> M1 = 2; wrong: dan, eve (1, 0) -> M0 = 0.5; p = 0.6
    assert (q1["attempts"], q1["correct"], q1["pct_correct"]) == (5, 3, 60.0)
    assert q1["discrimination"] == round(_r(2.0, 0.5, 0.6), 3) == 0.721
    assert q1["wrong_answers"] == [{"answer": "b", "count": 1}, {"answer": "c", "count": 1}]
    # Q2 right: ann, ben (3, 2) -> 2.5; wrong: cat, dan, eve (1, 1, 0) -> 2/3; p = 0.4
    assert (q2["correct"], q2["pct_correct"]) == (2, 40.0)
    assert q2["discrimination"] == round(_r(2.5, 2 / 3, 0.4), 3) == 0.881
    assert q2["wrong_answers"] == [{"answer": "a", "count": 3}]
    # Q3 right: ann, dan (3, 1) -> 2; wrong: ben, cat, eve (2, 1, 0) -> 1; p = 0.4
    assert q3["discrimination"] == round(_r(2.0, 1.0, 0.4), 3) == 0.48
    assert q3["wrong_answers"] == [{"answer": "x", "count": 3}]


def test_other_cohorts_and_ungraded_questions_are_not_counted(sessions: sessionmaker[Session]) -> None:
    quiz_id = _take_quiz(sessions)
    with sessions() as s:
        assert all(item["attempts"] == 0 for item in analysis.item_analysis(s, quiz_id, cohort="9B"))
        assert [i["attempts"] for i in analysis.item_analysis(s, quiz_id)] == [5, 5, 5]


def test_point_biserial_is_undefined_without_spread() -> None:
    assert analysis.point_biserial(4, 4, 8.0, 16.0, 8.0) is None  # everyone right
    assert analysis.point_biserial(4, 2, 8.0, 16.0, 4.0) is None  # every total equal
    assert analysis.point_biserial(0, 0, 0.0, 0.0, 0.0) is None

"""Review flags: a human resolves what the graders were unsure of, optionally overriding the grade.

An override changes, in the flag's own transaction and so exactly once, the answer's result, the
submission's total, and the learner model: the quiz's BKT step for that answer is replayed with
the corrected verdict when nothing has updated the skill since (an exact replacement), or a
corrective step is added when the student has practised it since. Item analysis reads the
results, so it follows. A second resolution of the same flag is a conflict, never a second change.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tutormesh.core.errors import Conflict, Invalid, NotFound
from tutormesh.core.models import Attempt, Grade, Mastery, Skill, User, utcnow
from tutormesh.core.models.assessment import QuestionResult, QuizQuestion, ReviewFlag, Submission, SubmissionResult
from tutormesh.tools import bkt
from tutormesh.tools.curriculum import load_curriculum


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()


def flags(s: Session, cohorts: Collection[str] | None, *, status: str = "open", quiz_id: str | None = None,
          limit: int = 200) -> list[dict[str, Any]]:
    """List review flags in scope with the answer, its grade and the student (id and username)."""
    query = (select(ReviewFlag, Submission.cohort, Submission.student_id, User.username, QuestionResult,
                    QuizQuestion.prompt)
             .join(Submission, Submission.id == ReviewFlag.submission_id)
             .outerjoin(User, User.student_id == Submission.student_id)
             .join(QuestionResult, (QuestionResult.submission_id == ReviewFlag.submission_id)
                   & (QuestionResult.question_id == ReviewFlag.question_id))
             .join(QuizQuestion, QuizQuestion.id == ReviewFlag.question_id)
             .where(ReviewFlag.status == status).order_by(ReviewFlag.id).limit(limit))
    if cohorts is not None:
        query = query.where(Submission.cohort.in_(list(cohorts)))
    if quiz_id is not None:
        query = query.where(ReviewFlag.quiz_id == quiz_id)
    return [{"id": f.id, "quiz_id": f.quiz_id, "submission_id": f.submission_id, "question_id": f.question_id,
             "prompt": prompt, "student": username, "student_id": student_id, "cohort": cohort, "reason": f.reason,
             "status": f.status, "answer": r.answer, "score": r.score, "max_points": r.max_points, "correct": r.correct,
             "confidence": r.confidence, "grader": r.grader, "feedback": r.feedback,
             "created_at": _iso(f.created_at), "resolved_at": _iso(f.resolved_at), "resolution": f.resolution,
             "override_score": f.override_score}
            for f, cohort, student_id, username, r, prompt in s.execute(query)]


def quiz_flags(s: Session, quiz_id: str, cohort: str | None) -> list[dict[str, Any]]:
    """A quiz's open flags: answers for a human and submissions whose grading failed (`question_id` "")."""
    query = (select(ReviewFlag, Submission.cohort, Submission.student_id)
             .join(Submission, Submission.id == ReviewFlag.submission_id)
             .where(ReviewFlag.quiz_id == quiz_id, ReviewFlag.status == "open").order_by(ReviewFlag.id))
    if cohort is not None:
        query = query.where(Submission.cohort == cohort)
    return [{"id": f.id, "submission_id": f.submission_id, "question_id": f.question_id, "reason": f.reason,
             "cohort": cohort, "student_id": student_id, "created_at": _iso(f.created_at)}
            for f, cohort, student_id in s.execute(query)]


def _passes(question: QuizQuestion, score: float, max_points: float) -> bool:
    if question.kind == "open":
        ratio = float((question.spec.get("rubric") or {}).get("pass_ratio", 0.6))
        return score >= ratio * max_points
    return score >= max_points


def resolve(s: Session, flag_id: int, cohorts: Collection[str] | None, *, user_id: str, reason: str,
            score: float | None = None) -> dict[str, Any]:
    """Resolve a flag (with `score`: override the grade); return what changed."""
    found = s.execute(select(ReviewFlag, Submission).join(Submission, Submission.id == ReviewFlag.submission_id)
                      .where(ReviewFlag.id == flag_id)).first()
    if found is None or (cohorts is not None and found[1].cohort not in cohorts):
        raise NotFound("review flag not found")
    flag, sub = found
    done = s.execute(update(ReviewFlag).where(ReviewFlag.id == flag_id, ReviewFlag.status == "open").values(
        status="resolved", resolved_by=user_id, resolved_at=utcnow(), resolution=reason, override_score=score))
    if getattr(done, "rowcount", 1) == 0:
        raise Conflict("review flag already resolved")
    result = s.get_one(QuestionResult, (flag.submission_id, flag.question_id))
    out: dict[str, Any] = {"id": flag_id, "status": "resolved", "overridden": False, "correct": result.correct,
                           "score": result.score, "max_points": result.max_points, "student_id": sub.student_id}
    total = s.get_one(SubmissionResult, flag.submission_id)
    total.flagged = max(0, total.flagged - 1)
    if score is None:
        return out
    if not 0 <= score <= result.max_points:
        raise Invalid(f"score: between 0 and {result.max_points:g}")
    question = s.get_one(QuizQuestion, flag.question_id)
    was = result.correct
    correct = _passes(question, score, result.max_points)
    total.score = round(total.score - result.score + score, 4)
    result.score, result.correct, result.grader, result.confidence = score, correct, "human", 1.0
    result.feedback = f"{result.feedback}\nReviewed by your teacher: {reason}".strip()
    if correct != was and question.topic:
        _correct_learner_model(s, sub.student_id, question, flag.quiz_id, correct)
    out.update(overridden=True, correct=correct, score=score, submission_score=total.score)
    return out


def _correct_learner_model(s: Session, student_id: str, question: QuizQuestion, quiz_id: str, correct: bool) -> None:
    skill_slug = load_curriculum().topic(str(question.topic)).skill
    skill, row = s.get(Skill, skill_slug), s.get(Mastery, (student_id, skill_slug))
    if skill is None or row is None:
        return
    params = bkt.BKTParams(p_init=skill.p_init, p_learn=skill.p_learn, p_slip=skill.p_slip, p_guess=skill.p_guess)
    attempt = s.scalar(select(Attempt).where(Attempt.student_id == student_id, Attempt.thread_id == f"quiz:{quiz_id}",
                                             Attempt.item_id == question.id).order_by(Attempt.id.desc()).limit(1))
    latest = s.scalar(select(Attempt.id).where(Attempt.student_id == student_id, Attempt.skill == skill_slug)
                      .order_by(Attempt.id.desc()).limit(1))
    if attempt is not None and latest == attempt.id:  # nothing since: replay the quiz's step with the new verdict
        row.p_known = attempt.p_known_after = bkt.update(attempt.p_known_before, correct, params)
        grade = s.get(Grade, attempt.id)
        if grade is not None:
            grade.correct, grade.grader, grade.reason = correct, "human", "override"
    else:  # practised since: add one corrective step rather than rewrite later history
        row.p_known = bkt.update(row.p_known, correct, params)
    row.correct = max(0, row.correct + (1 if correct else -1))

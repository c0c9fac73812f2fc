"""Quiz work for the console and the chat page: the teacher's quiz list, assignments with due dates,
a student's assigned work, per-student results and the item report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tutormesh.assessment import quizzes
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Forbidden, Invalid, NotFound
from tutormesh.core.models import User, utcnow
from tutormesh.core.models.assessment import Quiz, QuizAssignment, QuizQuestion
from tutormesh.core.stores.assessment import AssessmentStore
from tutormesh.server.deps import CurrentUser, ServicesDep
from tutormesh.server.fields import CohortQuery
from tutormesh.server.staff import Scope, Teaching, audit, check_cohort, scope_of

router = APIRouter(tags=["assignments"])
QuizId = Annotated[str, Path(min_length=1, max_length=64)]
T = TypeVar("T")


class AssignmentOut(BaseModel):
    """An assignment; `open` is false once closed or past due."""

    id: int
    quiz_id: str
    cohort: str | None
    student_id: str | None
    student: str | None = Field(default=None, description="username, for an assignment to one student")
    due_at: str | None
    closed_at: str | None
    open: bool


class QuizSummary(BaseModel):
    """A quiz in the teacher's list."""

    id: str
    title: str
    subject: str
    questions: int
    created_at: str
    assignments: list[AssignmentOut]
    submissions: int
    graded: int


class AssignIn(BaseModel):
    """Assign a quiz to a cohort or to one student (by username), optionally with a due date."""

    model_config = ConfigDict(extra="forbid")
    quiz_id: str = Field(min_length=1, max_length=64)
    cohort: str | None = Field(default=None, max_length=80)
    student: str | None = Field(default=None, max_length=80, description="a student's username")
    due_at: datetime | None = Field(default=None, description="ISO 8601 with a time zone, e.g. 2026-12-15T17:00Z")


class MyAssignment(BaseModel):
    """A student's assigned quiz and where they are with it."""

    assignment_id: int
    quiz_id: str
    title: str
    questions: int
    due_at: str | None
    open: bool
    status: str = Field(description="todo | queued | graded | missed")
    submission_id: str | None
    score: float | None
    max_score: float | None


class ResultRow(BaseModel):
    """One student's result on a quiz, named by username."""

    student: str
    cohort: str | None
    status: str
    score: float | None
    max_score: float | None
    flagged: int
    submission_id: str | None
    submitted_at: str | None


class ItemReport(BaseModel):
    """Item analysis of one quiz (see docs/assessment.md)."""

    quiz_id: str
    title: str
    cohort: str | None
    items: list[dict[str, Any]]


async def _in_db(services: ServicesDep, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with sessionmaker_for(services.settings).begin() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


def _visible_quiz_ids(s: Session, scope: Scope, user_id: str) -> Any:
    if scope is None:
        return select(Quiz.id)
    assigned = select(QuizAssignment.quiz_id).outerjoin(User, User.student_id == QuizAssignment.student_id).where(
        or_(QuizAssignment.cohort.in_(list(scope)), User.cohort.in_(list(scope))))
    return select(Quiz.id).where(or_(Quiz.created_by == user_id, Quiz.id.in_(assigned)))


def _quiz_in_scope(s: Session, quiz_id: str, scope: Scope, user_id: str) -> Quiz:
    quiz = s.get(Quiz, quiz_id)
    if quiz is None or s.scalar(_visible_quiz_ids(s, scope, user_id).where(Quiz.id == quiz_id)) is None:
        raise NotFound("quiz not found")
    return quiz


def _assignment_out(s: Session, row: QuizAssignment) -> AssignmentOut:
    name = s.scalar(select(User.username).where(User.student_id == row.student_id)) if row.student_id else None
    return AssignmentOut(**quizzes.assignment_view(row), student=name)


@router.get("/quizzes")
async def list_quizzes(user: Teaching, services: ServicesDep) -> list[QuizSummary]:
    """List the quizzes you wrote or that your cohort was given (admins: all), newest first."""
    scope = scope_of(services, user)

    def rows(s: Session) -> list[QuizSummary]:
        ids = _visible_quiz_ids(s, scope, user.id)
        found = list(s.scalars(select(Quiz).where(Quiz.id.in_(ids)).order_by(Quiz.created_at.desc()).limit(200)))
        # Sharded: the submissions are on the students' shards, counted over every database.
        counts = AssessmentStore(sessionmaker_for(services.settings)).submission_counts([q.id for q in found], scope)
        out = []
        for quiz in found:
            assignments = s.scalars(select(QuizAssignment).where(QuizAssignment.quiz_id == quiz.id)
                                    .order_by(QuizAssignment.id))
            submissions, graded = counts.get(quiz.id, (0, 0))
            out.append(QuizSummary(
                id=quiz.id, title=quiz.title, subject=quiz.subject, created_at=quiz.created_at.isoformat(),
                questions=s.scalar(select(func.count()).where(QuizQuestion.quiz_id == quiz.id)) or 0,
                assignments=[_assignment_out(s, a) for a in assignments
                             if scope is None or a.cohort in scope or a.student_id is not None],
                submissions=submissions, graded=graded))
        return out

    return await _in_db(services, rows)


@router.post("/assignments", status_code=201, responses={404: {"description": "no such quiz, cohort or student"}})
async def create_assignment(body: AssignIn, user: Teaching, services: ServicesDep) -> AssignmentOut:
    """Assign a quiz to a cohort (teachers: their own) or to one student of it, with an optional due date."""
    scope = scope_of(services, user)

    def run(s: Session) -> AssignmentOut:
        _quiz_in_scope(s, body.quiz_id, scope, user.id)
        student_id = None
        if body.student is not None:
            found = s.execute(select(User.student_id, User.cohort).where(User.username == body.student,
                                                                         User.role == "student")).first()
            if found is None or (scope is not None and found[1] not in scope):
                raise NotFound("student not found")
            student_id = found[0]
        elif body.cohort is not None:
            check_cohort(scope, body.cohort)
        view = quizzes.assign(s, body.quiz_id, cohort=body.cohort, student_id=student_id, assigned_by=user.id,
                              due_at=body.due_at)
        return _assignment_out(s, s.get_one(QuizAssignment, view["id"]))

    return await _in_db(services, run)


@router.post("/assignments/{assignment_id}/close", responses={404: {}})
async def close_assignment(assignment_id: Annotated[int, Path(ge=1, le=2**31)], user: Teaching,
                           services: ServicesDep) -> AssignmentOut:
    """Stop taking answers for an assignment now."""
    scope = scope_of(services, user)

    def run(s: Session) -> AssignmentOut:
        row = s.get(QuizAssignment, assignment_id)
        if row is None:
            raise NotFound("assignment not found")
        cohort = row.cohort or s.scalar(select(User.cohort).where(User.student_id == row.student_id))
        if scope is not None and cohort not in scope:
            raise NotFound("assignment not found")
        if row.closed_at is None:
            row.closed_at = utcnow()
        return _assignment_out(s, row)

    return await _in_db(services, run)


@router.get("/me/assignments", responses={403: {"description": "only students have assigned work"}})
async def my_assignments(user: CurrentUser, services: ServicesDep) -> list[MyAssignment]:
    """The signed-in student's assigned quizzes: to do, waiting for grading, graded, or missed."""
    if user.role != "student" or user.student_id is None:
        raise Forbidden("only students have assigned work")
    student_id = user.student_id

    def rows(s: Session) -> list[MyAssignment]:
        who = [QuizAssignment.student_id == student_id]
        if user.cohort:
            who.append(QuizAssignment.cohort == user.cohort)
        assigned = list(s.execute(select(QuizAssignment, Quiz).join(Quiz, Quiz.id == QuizAssignment.quiz_id)
                                  .where(or_(*who)).order_by(QuizAssignment.id)))
        # Sharded: the student's submissions are on their shard, the assignments in the directory.
        done = AssessmentStore(sessionmaker_for(services.settings)).submissions_of(
            student_id, {quiz.id for _, quiz in assigned})
        out: dict[str, MyAssignment] = {}
        for a, quiz in assigned:
            view = quizzes.assignment_view(a)
            sub, total = done.get(quiz.id, (None, None))
            status = "graded" if total else "queued" if sub else "todo" if view["open"] else "missed"
            previous = out.get(quiz.id)
            if previous is not None and previous.open and not view["open"]:
                continue  # the open assignment of the same quiz wins
            out[quiz.id] = MyAssignment(
                assignment_id=a.id, quiz_id=quiz.id, title=quiz.title, due_at=view["due_at"], open=view["open"],
                questions=s.scalar(select(func.count()).where(QuizQuestion.quiz_id == quiz.id)) or 0,
                status=status, submission_id=sub.id if sub else None, score=total.score if total else None,
                max_score=total.max_score if total else None)
        return sorted(out.values(), key=lambda m: (m.status != "todo", m.due_at or "9999"))

    return await _in_db(services, rows)


@router.get("/quizzes/{quiz_id}/results", responses={404: {}})
async def quiz_results(quiz_id: QuizId, user: Teaching, services: ServicesDep) -> list[ResultRow]:
    """Each student's result on the quiz (your cohort's; admins: all), by username (audited)."""
    scope = scope_of(services, user)

    def rows(s: Session) -> list[ResultRow]:
        _quiz_in_scope(s, quiz_id, scope, user.id)
        found = AssessmentStore(sessionmaker_for(services.settings)).results(quiz_id, scope)  # sharded: every shard
        out = [ResultRow(student=name or sub.student_id, cohort=sub.cohort, status=sub.status,
                         score=total.score if total else None, max_score=total.max_score if total else None,
                         flagged=total.flagged if total else 0, submission_id=sub.id,
                         submitted_at=sub.submitted_at.isoformat()) for sub, total, name in found]
        return out

    results = await _in_db(services, rows)
    audit(services, user, "read_quiz_results", target=f"quiz:{quiz_id}")
    return results


@router.get("/quizzes/{quiz_id}/report", responses={404: {}})
async def quiz_report(quiz_id: QuizId, user: Teaching, services: ServicesDep,
                      cohort: CohortQuery = None) -> ItemReport:
    """Item analysis: % correct, every choice's share, discrimination, the 60% rule and its re-teach."""
    scope = scope_of(services, user)
    if cohort is None and scope is not None:
        if len(scope) != 1:
            raise Invalid("cohort: name one of your cohorts")
        cohort = next(iter(scope))
    if cohort is not None:
        check_cohort(scope, cohort)

    title = await _in_db(services, lambda s: _quiz_in_scope(s, quiz_id, scope, user.id).title)
    items = await anyio.to_thread.run_sync(  # sharded: every shard's answers and re-teach rows
        lambda: AssessmentStore(sessionmaker_for(services.settings)).item_report(quiz_id, cohort=cohort))
    return ItemReport(quiz_id=quiz_id, title=title, cohort=cohort, items=items)

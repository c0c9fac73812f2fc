"""Quizzes: teachers write, assign and analyse them; students take them and get graded feedback.

A submission is stored first, then its grading task is sent to the Celery workers (202 Accepted);
`GET /v1/submissions/{id}` shows the result when it is ready, and `/events` streams it (SSE).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse, ServerSentEvent

from tutormesh.assessment import quizzes
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Forbidden, NotFound
from tutormesh.core.models import User
from tutormesh.core.stores.assessment import AssessmentStore
from tutormesh.server import worker
from tutormesh.server.deps import CurrentUser, Principal, ServicesDep, Staff, cohort_scope
from tutormesh.server.fields import Cohort, CohortQuery
from tutormesh.server.routes.assignments import AssignmentOut

router = APIRouter(tags=["quizzes"])
Id = Annotated[str, Path(min_length=1, max_length=64)]
T = TypeVar("T")
STREAM_SECONDS = 60.0


class AssignIn(BaseModel):
    """Give a quiz to a cohort or to one student (exactly one)."""

    model_config = ConfigDict(extra="forbid")
    cohort: Cohort | None = None
    student_id: str | None = Field(default=None, max_length=64)


class SubmitIn(BaseModel):
    """Answers keyed by question id."""

    model_config = ConfigDict(extra="forbid")
    answers: dict[str, Annotated[str, Field(max_length=20_000)]] = Field(max_length=50)


async def _in_db(services: ServicesDep, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with sessionmaker_for(services.settings).begin() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


def _store(services: ServicesDep) -> AssessmentStore:
    return AssessmentStore(sessionmaker_for(services.settings))


def _readable(services: ServicesDep, user: Principal, submission_id: str) -> dict[str, Any]:
    """The submission's view, if this user may read it (on the student's shard when sharded)."""
    try:
        sub, view = _store(services).submission(submission_id)
    except NotFound:
        raise NotFound("submission not found") from None
    mine = sub.student_id == user.student_id or user.role == "admin" or (
        user.role == "teacher" and user.cohort is not None and sub.cohort == user.cohort)
    if not mine:
        raise NotFound("submission not found")
    return view


def _check_assignee(session: Session, user: Principal, body: AssignIn) -> None:
    """Teachers assign to their own cohort, or to a student in it; a student must exist."""
    if body.cohort is not None and user.role == "teacher" and (user.cohort is None or body.cohort != user.cohort):
        raise Forbidden("teachers assign to their own cohort")
    if body.student_id is not None:
        cohort = session.execute(select(User.cohort).where(User.student_id == body.student_id,
                                                           User.role == "student")).first()
        if cohort is None or (user.role == "teacher" and (user.cohort is None or cohort[0] != user.cohort)):
            raise NotFound("student not found")


class QuestionOut(BaseModel):
    """A question as students see it: never its answer; `choices` only on choice questions."""

    id: str
    kind: str = Field(description="choice | symbolic | open | code")
    prompt: str
    points: float
    topic: str | None
    choices: dict[str, str] | None = None


class QuizOut(BaseModel):
    """A quiz and its questions."""

    id: str
    title: str
    subject: str
    questions: list[QuestionOut]


class SubmissionQueued(BaseModel):
    """A stored submission waiting for its grader."""

    submission_id: str
    status: str = Field(description="queued")


class QuestionResultOut(BaseModel):
    """How one answer was graded."""

    question_id: str
    correct: bool
    score: float
    max_points: float
    confidence: float
    feedback: str
    grader: str


class ExplanationOut(BaseModel):
    """A re-teaching explanation of a question the student got wrong."""

    question_id: str
    text: str
    source: str = Field(description="curriculum | llm")


class SubmissionOut(BaseModel):
    """A submission: queued, errored (with `error`), or graded (with score, questions and explanations)."""

    id: str
    quiz_id: str
    student_id: str
    status: str = Field(description="queued | graded | errored")
    error: str | None = None
    score: float | None = None
    max_score: float | None = None
    flagged: int | None = None
    questions: list[QuestionResultOut] | None = None
    explanations: list[ExplanationOut] | None = None


class WrongAnswer(BaseModel):
    """A wrong answer and how often it was given."""

    answer: str
    count: int


class ItemRow(BaseModel):
    """Item analysis of one question (see docs/assessment.md)."""

    question_id: str
    position: int
    kind: str
    topic: str | None
    attempts: int
    correct: int
    pct_correct: float | None
    wrong_answers: list[WrongAnswer]
    discrimination: float | None = Field(description="point-biserial correlation with the total score")


class ItemAnalysis(BaseModel):
    """Item analysis of a quiz, for one cohort or (admins, no cohort) everyone."""

    quiz_id: str
    cohort: str | None
    items: list[ItemRow]


class FlagRow(BaseModel):
    """An answer flagged for a human, or a submission whose grading failed."""

    submission_id: str
    question_id: str | None
    reason: str
    cohort: str | None


SIGNED_IN = {401: {"description": "not signed in, or a bad, expired or revoked token"},
             422: {"description": "malformed input, with the reason"}}
STAFF = {**SIGNED_IN, 403: {"description": "teachers and admins only"}}


@router.post("/quizzes", status_code=201, responses=STAFF, response_model=QuizOut, response_model_exclude_unset=True)
async def create_quiz(body: quizzes.QuizIn, user: Staff, services: ServicesDep) -> dict[str, Any]:
    """Write a quiz (choice, symbolic, open with a rubric, code with tests)."""
    view = await _in_db(services, lambda s: quizzes.create_quiz(s, body, created_by=user.id))
    await anyio.to_thread.run_sync(_store(services).mirror_quiz, view["id"])  # sharded: a copy on each shard
    return view


@router.post("/quizzes/{quiz_id}/assignments", status_code=201, responses={
    **STAFF, 403: {"description": "staff only; teachers assign to their own cohort"},
    404: {"description": "no such quiz, or no such student in your cohort"}},
    response_model=AssignmentOut, response_model_exclude_unset=True)
async def assign_quiz(quiz_id: Id, body: AssignIn, user: Staff, services: ServicesDep) -> dict[str, Any]:
    """Assign a quiz to a cohort or to one student (teachers: their own cohort and its students)."""
    def store(s: Session) -> dict[str, Any]:
        _check_assignee(s, user, body)
        return quizzes.assign(s, quiz_id, cohort=body.cohort, student_id=body.student_id, assigned_by=user.id)

    return await _in_db(services, store)


@router.get("/quizzes/{quiz_id}", responses={**SIGNED_IN, 404: {"description": "no such quiz, or not assigned"}},
            response_model=QuizOut, response_model_exclude_unset=True)
async def get_quiz(quiz_id: Id, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Show a quiz's questions (never its answers) to staff and to students it was assigned to."""
    def view(s: Session) -> dict[str, Any]:
        if user.role == "student" and not quizzes.is_assigned(s, quiz_id, student_id=str(user.student_id),
                                                              cohort=user.cohort):
            raise NotFound("quiz not found")
        return quizzes.quiz_view(s, quiz_id)

    return await _in_db(services, view)


@router.post("/quizzes/{quiz_id}/submissions", status_code=202, responses={
    **SIGNED_IN, 403: {"description": "only students submit quizzes"},
    404: {"description": "no such quiz, or not assigned to you"}, 409: {"description": "already submitted"}})
async def submit(quiz_id: Id, body: SubmitIn, user: CurrentUser, services: ServicesDep) -> SubmissionQueued:
    """Hand in answers: stored at once, graded by a worker within seconds."""
    if user.role != "student" or user.student_id is None:
        raise Forbidden("only students submit quizzes")

    if not await _in_db(services, lambda s: quizzes.is_assigned(s, quiz_id, student_id=str(user.student_id),
                                                                cohort=user.cohort)):
        raise NotFound("quiz not found")
    submission_id = await anyio.to_thread.run_sync(lambda: _store(services).submit(
        quiz_id, student_id=str(user.student_id), cohort=user.cohort, answers=body.answers))
    try:  # stored and committed: if the broker is down now, the worker's sweeper sends it later
        await anyio.to_thread.run_sync(worker.dispatch, [submission_id], services.settings)
    except Exception:  # noqa: BLE001 - the submission is safe in SQL; say it is queued
        pass
    return SubmissionQueued(submission_id=submission_id, status="queued")


@router.get("/submissions/{submission_id}", responses={**SIGNED_IN, 404: {"description": "no such submission"}},
            response_model=SubmissionOut, response_model_exclude_unset=True)
async def get_submission(submission_id: Id, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Show a submission: queued, or graded with feedback and any re-teaching explanations."""
    return await anyio.to_thread.run_sync(_readable, services, user, submission_id)


@router.get("/submissions/{submission_id}/events", response_class=EventSourceResponse, responses={
    **SIGNED_IN, 200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "`status` events, then one `result` event"},
    404: {"description": "no such submission"}})
async def stream_submission(submission_id: Id, user: CurrentUser, services: ServicesDep) -> EventSourceResponse:
    """Stream `status` events until the submission is graded, then one `result` event (SSE)."""
    await anyio.to_thread.run_sync(_readable, services, user, submission_id)

    async def events() -> AsyncIterator[ServerSentEvent]:
        deadline = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < deadline:
            view = await anyio.to_thread.run_sync(lambda: _store(services).submission(submission_id)[1])
            if view["status"] in ("graded", "errored"):
                yield ServerSentEvent(json.dumps(view, default=str), event="result")
                return
            yield ServerSentEvent(json.dumps({"status": view["status"]}), event="status")
            await asyncio.sleep(0.25)

    return EventSourceResponse(events())


@router.get("/quizzes/{quiz_id}/analysis", responses={
    **STAFF, 404: {"description": "no such quiz, or a cohort that is not yours"}}, response_model=ItemAnalysis)
async def item_analysis(quiz_id: Id, user: Staff, services: ServicesDep,
                        cohort: CohortQuery = None) -> dict[str, Any]:
    """Per question: attempts, % correct, common wrong answers, discrimination (teachers: own cohort)."""
    scope = cohort_scope(user, cohort)

    await _in_db(services, lambda s: quizzes.quiz_view(s, quiz_id))  # 404 for an unknown quiz
    items = await anyio.to_thread.run_sync(lambda: _store(services).item_analysis(quiz_id, cohort=scope))
    return {"quiz_id": quiz_id, "cohort": scope, "items": items}


@router.get("/quizzes/{quiz_id}/flags", responses=STAFF, response_model=list[FlagRow])
async def review_flags(quiz_id: Id, user: Staff, services: ServicesDep) -> list[dict[str, Any]]:
    """Answers flagged for a human, and submissions whose grading failed, with the reason (teachers: their cohort's)."""
    if user.role == "teacher" and user.cohort is None:
        return []
    cohort = user.cohort if user.role == "teacher" else None  # sharded: every shard's flags of the quiz
    return await anyio.to_thread.run_sync(lambda: _store(services).quiz_flags(quiz_id, cohort))

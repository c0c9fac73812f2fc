"""Quizzes: write one, assign it to a cohort or a student, take a submission, read the results.

Functions take a SQLAlchemy session (the caller owns the transaction) and return plain dicts, so
the API routes, the CLI and the Celery tasks share them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tutormesh.agents.rubric import Rubric
from tutormesh.core.errors import Conflict, Invalid, NotFound
from tutormesh.core.models import Student, utcnow
from tutormesh.core.models.assessment import (
    Explanation,
    QuestionResult,
    Quiz,
    QuizAssignment,
    QuizQuestion,
    Submission,
    SubmissionResult,
)

# Something left after `str.strip`: Python's `\s` is its whitespace, so models using this
# validate with the python-re engine.
NOT_BLANK = r"^\s*\S"
Text = Annotated[str, Field(max_length=4000)]


class _TopicSlugs:
    """Lists the shipped curriculum's topic slugs in the schema (read when the schema is made)."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        from tutormesh.tools.curriculum import load_curriculum

        return {**handler(schema), "enum": sorted(t.slug for t in load_curriculum().topics())}


Topic = Annotated[str, _TopicSlugs()]


class ChoiceSpec(BaseModel):
    """Two or more choices by key, the key of the right one, and optional feedback per key."""

    model_config = ConfigDict(extra="forbid")
    choices: dict[Annotated[str, Field(min_length=1, max_length=40)], Text] = Field(
        min_length=2, max_length=20)
    answer: str = Field(max_length=40, description="one of the choice keys (any case)")
    feedback: dict[Annotated[str, Field(max_length=40)], Text] = Field(
        default_factory=dict, max_length=20)

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> ChoiceSpec:
        if self.answer.lower() not in {k.lower() for k in self.choices}:
            raise ValueError('"answer" must be one of the choice keys')
        return self


class SymbolicSpec(BaseModel):
    """The expected expression or equation."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")
    answer: str = Field(max_length=1000, pattern=NOT_BLANK, description='e.g. "x = 3"')


class OpenSpec(BaseModel):
    """The rubric an open answer is scored against."""

    model_config = ConfigDict(extra="forbid")
    rubric: Rubric


class CodeSpec(BaseModel):
    """Tests the submitted code must pass: at least one `test_*` function."""

    model_config = ConfigDict(extra="forbid")
    tests: str = Field(max_length=20_000, pattern=r"def test_")


class _Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=4000)
    points: float = Field(default=1.0, gt=0, le=100)
    topic: Topic | None = Field(default=None, description="Curriculum topic slug: drives BKT and re-teaching.")


class ChoiceQuestion(_Question):
    """A multiple-choice question."""

    kind: Literal["choice"]
    spec: ChoiceSpec


class SymbolicQuestion(_Question):
    """A question answered with an expression, checked with sympy."""

    kind: Literal["symbolic"]
    spec: SymbolicSpec


class OpenQuestion(_Question):
    """A free-text question scored with a rubric."""

    kind: Literal["open"]
    spec: OpenSpec


class CodeQuestion(_Question):
    """A code question graded by its tests."""

    kind: Literal["code"]
    spec: CodeSpec


# A question as a teacher writes it: its `spec` has the shape its `kind` needs.
QuestionIn = Annotated[ChoiceQuestion | SymbolicQuestion | OpenQuestion | CodeQuestion, Field(discriminator="kind")]


class QuizIn(BaseModel):
    """A quiz: a title, its subject and 1-50 questions."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    subject: str = Field(default="math", max_length=40)
    questions: list[QuestionIn] = Field(min_length=1, max_length=50)


def create_quiz(session: Session, quiz: QuizIn, *, created_by: str) -> dict[str, Any]:
    """Store a quiz and its questions; return its public view (no answers)."""
    from tutormesh.tools.curriculum import load_curriculum

    curriculum = load_curriculum()
    for q in quiz.questions:
        if q.topic is not None:
            try:
                curriculum.topic(q.topic)
            except LookupError:
                raise Invalid(f"unknown curriculum topic {q.topic!r}") from None
    row = Quiz(id=uuid.uuid4().hex[:12], title=quiz.title, subject=quiz.subject, created_by=created_by)
    session.add(row)
    for n, q in enumerate(quiz.questions, 1):
        session.add(QuizQuestion(id=f"{row.id}.q{n}", quiz_id=row.id, position=n, kind=q.kind, prompt=q.prompt,
                                 topic=q.topic, points=q.points,
                                 spec=q.spec.model_dump(exclude_unset=True)))
    session.flush()
    return quiz_view(session, row.id)


def quiz_view(session: Session, quiz_id: str) -> dict[str, Any]:
    """Return a quiz as a student sees it: prompts and choices, never answers, rubrics or tests."""
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(f"no quiz {quiz_id!r}")
    questions = session.scalars(select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id)
                                .order_by(QuizQuestion.position))
    return {"id": quiz.id, "title": quiz.title, "subject": quiz.subject, "questions": [
        {"id": q.id, "kind": q.kind, "prompt": q.prompt, "points": q.points, "topic": q.topic,
         **({"choices": q.spec["choices"]} if q.kind == "choice" else {})} for q in questions]}


def assign(session: Session, quiz_id: str, *, cohort: str | None, student_id: str | None,
           assigned_by: str, due_at: datetime | None = None) -> dict[str, Any]:
    """Give a quiz to a cohort or to one student, optionally due by `due_at` (then it closes)."""
    if session.get(Quiz, quiz_id) is None:
        raise NotFound(f"no quiz {quiz_id!r}")
    if (cohort is None) == (student_id is None):
        raise Invalid("assign to exactly one of a cohort or a student")
    if due_at is not None and due_at.tzinfo is None:
        raise Invalid("due_at: give a time zone, e.g. 2026-12-15T17:00:00Z")
    if due_at is not None and due_at <= utcnow():
        raise Invalid("due_at: must be in the future")
    row = QuizAssignment(quiz_id=quiz_id, cohort=cohort, student_id=student_id, assigned_by=assigned_by,
                         due_at=due_at)
    session.add(row)
    session.flush()
    return assignment_view(row)


def assignment_view(row: QuizAssignment) -> dict[str, Any]:
    """An assignment as the API shows it; `open` is false once closed or past due."""
    due, closed = _aware(row.due_at), _aware(row.closed_at)
    return {"id": row.id, "quiz_id": row.quiz_id, "cohort": row.cohort, "student_id": row.student_id,
            "due_at": due.isoformat() if due else None, "closed_at": closed.isoformat() if closed else None,
            "open": closed is None and (due is None or due > utcnow())}


def _aware(ts: datetime | None) -> datetime | None:
    # SQLite drops tzinfo; every timestamp we write is UTC.
    return ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)


def is_assigned(session: Session, quiz_id: str, *, student_id: str, cohort: str | None) -> bool:
    """Whether the quiz was given to this student or to their cohort and still takes answers."""
    who = [QuizAssignment.student_id == student_id]
    if cohort:
        who.append(QuizAssignment.cohort == cohort)
    rows = session.scalars(select(QuizAssignment).where(QuizAssignment.quiz_id == quiz_id, or_(*who)))
    return any(assignment_view(row)["open"] for row in rows)


def create_submission(session: Session, quiz_id: str, *, student_id: str, cohort: str | None,
                      answers: dict[str, str], submission_id: str | None = None) -> str:
    """Store a student's answers (status queued) and return the submission id; send the task after commit."""
    questions = set(session.scalars(select(QuizQuestion.id).where(QuizQuestion.quiz_id == quiz_id)))
    if not questions:
        raise NotFound(f"no quiz {quiz_id!r}")
    unknown = set(answers) - questions
    if unknown:
        raise Invalid(f"answers to questions not in this quiz: {sorted(unknown)}")
    if any(len(a) > 20_000 for a in answers.values()):
        raise Invalid("an answer is over 20000 characters")
    if session.get(Student, student_id) is None:
        session.add(Student(id=student_id, name=student_id))
    taken = session.scalar(select(Submission.id).where(Submission.quiz_id == quiz_id,
                                                       Submission.student_id == student_id))
    if taken:
        raise Conflict(f"this quiz was already submitted (submission {taken})")
    row = Submission(id=submission_id or uuid.uuid4().hex, quiz_id=quiz_id, student_id=student_id,
                     cohort=cohort, answers=dict(answers))
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same student's other request got there first
        raise Conflict("this quiz was already submitted") from None
    return row.id


def submission_view(session: Session, submission_id: str) -> dict[str, Any]:
    """Return a submission's status and, once graded, its score, feedback and any explanations."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise NotFound(f"no submission {submission_id!r}")
    out: dict[str, Any] = {"id": sub.id, "quiz_id": sub.quiz_id, "student_id": sub.student_id, "status": sub.status}
    if sub.status == "errored":
        out["error"] = sub.error
    total = session.get(SubmissionResult, submission_id)
    if total is None:
        return out
    rows = session.scalars(select(QuestionResult).where(QuestionResult.submission_id == submission_id)
                           .order_by(QuestionResult.question_id))
    out.update(score=total.score, max_score=total.max_score, flagged=total.flagged, questions=[
        {"question_id": r.question_id, "correct": r.correct, "score": r.score, "max_points": r.max_points,
         "confidence": r.confidence, "feedback": r.feedback, "grader": r.grader} for r in rows])
    wrong = [q["question_id"] for q in out["questions"] if not q["correct"]]
    out["explanations"] = [
        {"question_id": e.question_id, "text": e.text, "source": e.source}
        for e in session.scalars(select(Explanation).where(Explanation.question_id.in_(wrong),
                                                           Explanation.cohort == (sub.cohort or "")))
    ] if wrong else []
    return out

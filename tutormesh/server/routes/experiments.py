"""A/B content experiments for staff: gain per attempt by arm, and retiring the losing wording (admins).

Counts and means only: no student is named in any response. Teachers see their cohort's
students' numbers; admins see everyone's, and only admins retire (on everyone's numbers).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Conflict, NotFound
from tutormesh.core.models import AuditEntry, User
from tutormesh.core.shards import get_router
from tutormesh.server.deps import Admin, ServicesDep
from tutormesh.server.fields import NOT_BLANK
from tutormesh.server.staff import Teaching, scope_of
from tutormesh.tools import experiments
from tutormesh.tools.curriculum import load_curriculum

router = APIRouter(prefix="/experiments", tags=["experiments"])
ExperimentId = Annotated[str, Path(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80,
                                   description="the topic slug whose templates carry the A/B wordings")]


class ArmOut(BaseModel):
    """One arm: students and graded attempts in it, mean BKT gain per attempt and its 95% interval."""

    students: int
    attempts: int
    gain: float | None
    low: float | None
    high: float | None


class DifferenceOut(BaseModel):
    """Gain per attempt of B minus A, with Welch's 95% interval and degrees of freedom."""

    estimate: float
    low: float
    high: float
    df: float | None


class ExperimentOut(BaseModel):
    """One topic's A/B experiment and the retirement rule's verdict on the numbers shown."""

    id: str
    subject: str
    title: str
    arms: dict[str, ArmOut]
    difference: DifferenceOut | None
    verdict: Literal["collecting", "no_difference", "retire"]
    loser: Literal["A", "B"] | None
    retired: Literal["A", "B"] | None
    rule: dict[str, float]


class RetireIn(BaseModel):
    """Which arm to retire; an `override` reason retires it even when the rule does not support it."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")
    variant: Literal["A", "B"]
    override: str | None = Field(default=None, min_length=1, max_length=80, pattern=NOT_BLANK,
                                 description="why the rule is overridden (kept in the audit log)")


class RetireOut(BaseModel):
    """The retirement and the evidence it was decided on."""

    id: str
    retired: Literal["A", "B"]
    forced: bool
    reason: str | None
    evidence: ExperimentOut


def _student_ids(s: Session, cohorts: frozenset[str]) -> list[str]:
    return [str(sid) for sid in s.scalars(select(User.student_id).where(
        User.cohort.in_(cohorts), User.role == "student", User.student_id.is_not(None)))]


def _experiments(services: ServicesDep, cohorts: frozenset[str] | None,
                 only: str | None = None) -> list[ExperimentOut]:
    """Summaries of every topic with practice data in scope (and every retired one)."""
    shards = get_router(services.settings)
    with sessionmaker_for(services.settings)() as s:
        retired = experiments.read_retired(s)
        ids = None if cohorts is None else _student_ids(s, cohorts)
        if shards is None:
            rows = experiments.student_arms(s, ids)
        elif ids is None:
            rows = [r for found in shards.fan_out(experiments.student_arms).values() for r in found]
        else:
            rows = shards.for_students(ids, experiments.student_arms)
    grouped: dict[str, list[experiments.StudentArm]] = {slug: [] for slug in retired}
    for row in rows:
        grouped.setdefault(row.experiment, []).append(row)
    out = []
    for topic in load_curriculum().topics():  # teaching order; a skill no longer in the curriculum is left out
        if topic.slug not in grouped or (only is not None and topic.slug != only):
            continue
        summary = experiments.summarise(topic.slug, grouped[topic.slug], retired.get(topic.slug))
        out.append(_out(summary, topic.subject, topic.title))
    return out


def _out(summary: experiments.Experiment, subject: str, title: str) -> ExperimentOut:
    data: dict[str, Any] = summary.as_dict()
    return ExperimentOut(**{**data, "subject": subject, "title": title})


@router.get("")
async def list_experiments(user: Teaching, services: ServicesDep) -> list[ExperimentOut]:
    """Every topic's A/B experiment on your students (teachers: your cohort; admins: everyone)."""
    scope = await anyio.to_thread.run_sync(scope_of, services, user)
    return await anyio.to_thread.run_sync(_experiments, services, scope)


@router.post("/{experiment_id}/retire", responses={
    404: {"description": "no such experiment (a topic with practice data)"},
    409: {"description": "already retired, or the rule's evidence does not support it (and no override)"}})
async def retire(experiment_id: ExperimentId, body: RetireIn, user: Admin, services: ServicesDep) -> RetireOut:
    """Stop assigning one wording of a topic's items: its students get the other one from then on."""

    def work() -> RetireOut:
        found = _experiments(services, None, only=experiment_id)
        if not found:
            raise NotFound(f"no experiment {experiment_id!r}: no topic by that slug has practice data")
        evidence = found[0]
        if evidence.retired is not None:
            raise Conflict(f"variant {evidence.retired} of {experiment_id!r} is already retired")
        supported = evidence.verdict == "retire" and evidence.loser == body.variant
        if not supported and body.override is None:
            raise Conflict(_why_not(evidence, body.variant))
        reason = None if body.override is None else body.override.strip()
        with sessionmaker_for(services.settings).begin() as s:
            s.add(AuditEntry(actor_id=user.id, actor_role=user.role, action=experiments.RETIRE_ACTION,
                             target=experiments.retirement_target(experiment_id, body.variant, reason)))
        experiments.forget_retired()
        return RetireOut(id=experiment_id, retired=body.variant, forced=reason is not None, reason=reason,
                         evidence=evidence)

    return await anyio.to_thread.run_sync(work)


def _why_not(evidence: ExperimentOut, variant: str) -> str:
    rule = evidence.rule
    if evidence.verdict == "collecting":
        return (f"not enough evidence yet: each arm needs {int(rule['min_students_per_arm'])} students and "
                f"{int(rule['min_attempts_per_arm'])} attempts; send an \"override\" reason to retire it anyway")
    if evidence.verdict == "no_difference":
        return "the 95% interval of the difference includes 0; send an \"override\" reason to retire it anyway"
    return (f"the evidence says variant {evidence.loser} lost, not {variant}; "
            "send an \"override\" reason to retire it anyway")

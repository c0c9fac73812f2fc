"""Deliver outbox events to the agents that subscribe to them (the seed's pub/sub, on SQL).

`quiz_complete` reaches the student agent (Bayesian Knowledge Tracing over the quiz's topics) and the
SME agent (re-pitch the plan; the 60% rule). `explanation_ready` reaches the student: the SME's
explanation is appended to their latest conversation. Each consumer applies an event and writes its
receipt in one transaction, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.assessment import analysis
from tutormesh.core.models import Attempt, Grade, LearningSession, Mastery, Skill, ThreadMessage
from tutormesh.core.models.assessment import AssessmentEvent, EventReceipt
from tutormesh.core.models.base import utcnow
from tutormesh.core.shards import ShardBusy
from tutormesh.tools import bkt
from tutormesh.tools.curriculum import load_curriculum

log = logging.getLogger(__name__)
# A consumer applies an event inside the given transaction and returns the events it raised.
Consumer = Callable[[Session, AssessmentEvent], list[AssessmentEvent]]


def student_learns_from_quiz(s: Session, event: AssessmentEvent) -> list[AssessmentEvent]:
    """Student agent: one BKT update per answered question with a curriculum topic."""
    curriculum = load_curriculum()
    student_id = str(event.student_id)
    for r in event.payload["results"]:
        if not r.get("topic"):
            continue
        skill_slug = curriculum.topic(r["topic"]).skill
        skill = s.get(Skill, skill_slug)
        if skill is None:
            continue
        params = bkt.BKTParams(p_init=skill.p_init, p_learn=skill.p_learn, p_slip=skill.p_slip, p_guess=skill.p_guess)
        row = s.get(Mastery, (student_id, skill_slug))
        if row is None:
            row = Mastery(student_id=student_id, skill=skill_slug, p_known=skill.p_init, attempts=0, correct=0,
                          streak=0, fail_streak=0, time_on_task_s=0.0)
            s.add(row)
        before, correct = row.p_known, bool(r["correct"])
        row.p_known = bkt.update(before, correct, params)
        row.attempts += 1
        row.correct += int(correct)
        row.streak = row.streak + 1 if correct else 0
        row.fail_streak = 0 if correct else row.fail_streak + 1
        attempt = Attempt(student_id=student_id, thread_id=f"quiz:{event.quiz_id}", item_id=r["question_id"],
                          skill=skill_slug, difficulty=3, answer="", p_known_before=before, p_known_after=row.p_known)
        s.add(attempt)
        s.flush()
        s.add(Grade(attempt_id=attempt.id, correct=correct, reason="quiz", feedback="", grader="quiz"))
    return []


def sme_reviews_quiz(s: Session, event: AssessmentEvent) -> list[AssessmentEvent]:
    """SME agent: re-pitch the student's plan by their score, then apply the 60% rule to the quiz."""
    analysis.adjust_plan(s, event)
    return analysis.apply_reteach_rule(s, event)


def student_receives_explanation(s: Session, event: AssessmentEvent) -> list[AssessmentEvent]:
    """Student agent: post the SME's explanation into the student's latest conversation."""
    thread = s.scalar(select(LearningSession.thread_id).where(LearningSession.student_id == event.student_id)
                      .order_by(LearningSession.last_active_at.desc()).limit(1))
    if thread is not None:
        s.add(ThreadMessage(thread_id=thread, role="assistant", content=event.payload["text"]))
    return []


SUBSCRIBERS: dict[str, list[tuple[str, Consumer]]] = {
    "quiz_complete": [("student_agent", student_learns_from_quiz), ("sme_agent", sme_reviews_quiz)],
    "explanation_ready": [("student_agent", student_receives_explanation)],
}


def _deliver_one(sessions: sessionmaker[Session], event_id: int, keep: Callable[[str], bool]) -> list[int]:
    """Run every consumer of an event that has no receipt yet; return events the consumers raised."""
    raised: list[int] = []
    with sessions() as s:
        event = s.get(AssessmentEvent, event_id)
        if event is None or event.delivered_at is not None or not keep(str(event.student_id)):
            return raised
        consumers = SUBSCRIBERS.get(event.kind, [])
    for name, consume in consumers:
        try:
            with sessions.begin() as s:
                if s.get(EventReceipt, (event_id, name)) is not None:
                    continue
                s.add(EventReceipt(event_id=event_id, consumer=name))
                new = consume(s, s.get_one(AssessmentEvent, event_id))
                s.flush()
                raised += [e.id for e in new]
        # A concurrent consumer won, or a shard written to stayed frozen (the 60% rule): retried by the sweeper.
        except (IntegrityError, OperationalError, ShardBusy) as exc:
            log.info("event %s consumer %s deferred: %s", event_id, name, exc)
            return raised
    with sessions.begin() as s:
        s.get_one(AssessmentEvent, event_id).delivered_at = utcnow()
    return raised


def relay(sessions: sessionmaker[Session], event_ids: list[int] | None = None, *, older_than_s: float = 0.0,
          limit: int = 200, settled: Callable[[str], bool] | None = None) -> int:
    """Deliver the given events (or undelivered ones older than `older_than_s`) and what they raise.

    `settled(student_id)` false: the student's shard is being moved; their events (the consumers write
    their learner model) wait for the next sweep rather than being written behind the mover's back.
    """
    keep = settled or (lambda _student: True)
    if event_ids is None:
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        with sessions() as s:
            event_ids = [event for event, student in s.execute(select(AssessmentEvent.id, AssessmentEvent.student_id)
                         .where(AssessmentEvent.delivered_at.is_(None), AssessmentEvent.created_at <= cutoff)
                         .order_by(AssessmentEvent.id).limit(limit)) if keep(str(student))]
    queue, delivered = list(event_ids), 0
    while queue:
        queue += _deliver_one(sessions, queue.pop(0), keep)
        delivered += 1
    return delivered

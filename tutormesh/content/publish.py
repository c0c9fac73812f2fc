"""Publish a reviewed draft to students, or take it back.

Publishing a job's draft (less its dropped topics), in order:
1. checks that its topics fit the curriculum as it stands (slugs free, weeks inside the semester);
2. writes the overlay file the curriculum loader reads (tools/curriculum/overlay.py): the topics
   join their subject for every process, and so become plannable for every student;
3. in one transaction: records the version (who, when, what), seeds the new skills and item
   templates into SQL (on every shard too: mastery and plans refer to skills), and, when a class
   is named, turns the draft's assignment into a quiz assigned to that cohort;
4. adds the lessons, items, figures and assignment to the vector index.
A failure in 3 removes the file again, so nothing is half published. Publishing a job again
replaces its previous version. Unpublishing removes the file and the passages and closes the
assignment; skills stay in SQL, since students' mastery rows refer to them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutormesh.assessment import quizzes
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Conflict, Invalid, NotFound
from tutormesh.core.models import ContentVersion, IngestJob, utcnow
from tutormesh.core.models.assessment import QuizAssignment
from tutormesh.core.settings import Settings
from tutormesh.core.shards import get_router
from tutormesh.core.stores.content import ContentStore, version_view
from tutormesh.tools import retrieval
from tutormesh.tools.curriculum import Curriculum, Topic, load_curriculum, overlay
from tutormesh.tools.ingest.draft import Draft
from tutormesh.tools.store import seed_curriculum

log = logging.getLogger(__name__)


def _fits(settings: Settings, job_id: str, subject: str, topics: list[Topic]) -> None:
    """Raise Invalid unless these topics join the shipped and the other published content cleanly."""
    others = [(s, [Topic.model_validate(t) for t in docs])
              for job, s, docs, _ in ContentStore(sessionmaker_for(settings)).published_documents() if job != job_id]
    wrong = [t.slug for t in topics if t.subject != subject]
    if wrong:
        raise Invalid(f"topics {wrong} are not in subject {subject!r}")
    try:
        Curriculum(overlay.merge(load_curriculum(published=False).subjects, [*others, (subject, topics)]))
    except ValueError as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines()[:3])
        raise Invalid(f"the draft does not fit the curriculum: {reason}") from None


def _seed_and_commit(s: Session) -> int:
    """Seed one shard's copy of the curriculum (`fan_out` hands out sessions without a transaction)."""
    written = seed_curriculum(s)
    s.commit()
    return written


def _close(s: Session, assignment_id: int | None) -> None:
    row = s.get(QuizAssignment, assignment_id) if assignment_id else None
    if row is not None and row.closed_at is None:
        row.closed_at = utcnow()


def _retire(s: Session, job_id: str, by: str) -> list[str]:
    """Mark a job's published versions unpublished and close their assignments; return their passage ids."""
    ids: list[str] = []
    for old in s.scalars(select(ContentVersion).where(ContentVersion.job_id == job_id,
                                                      ContentVersion.status == "published")):
        old.status, old.unpublished_by, old.unpublished_at = "unpublished", by, utcnow()
        _close(s, old.assignment_id)
        ids += [p["id"] for p in old.passages or []]
    return ids


def _assign(s: Session, draft: Draft, topics: list[Topic], cohort: str, by: str) -> tuple[str | None, int | None]:
    """Turn the draft's assignment into a quiz (one symbolic question per item) given to the cohort."""
    templates = {t.id: t for topic in topics for t in topic.templates}
    chosen = [templates[i] for i in (draft.assignment.template_ids if draft.assignment else []) if i in templates]
    if not chosen or draft.assignment is None:
        return None, None
    questions = []
    for template in chosen[:50]:
        item = template.instantiate(0, "A")
        questions.append(quizzes.SymbolicQuestion(kind="symbolic", prompt=item.prompt, topic=template.topic,
                                                  spec=quizzes.SymbolicSpec(answer=item.answer)))
    quiz = quizzes.create_quiz(s, quizzes.QuizIn(title=draft.assignment.title[:200], subject=draft.subject,
                                                 questions=questions), created_by=by)
    given = quizzes.assign(s, quiz["id"], cohort=cohort, student_id=None, assigned_by=by,
                           due_at=utcnow() + timedelta(days=draft.assignment.due_in_days))
    return str(quiz["id"]), int(given["id"])


def publish(settings: Settings, job_id: str, *, by: str, cohort: str | None) -> dict[str, Any]:
    """Publish a job's reviewed draft (see the module docstring); return the new version."""
    sessions = sessionmaker_for(settings)
    with sessions() as s:
        job = s.get(IngestJob, job_id)
        if job is None:
            raise NotFound("content job not found")
        if job.status != "ready" or job.draft is None:
            raise Conflict(f"the draft is not ready to publish (status {job.status})")
        draft, dropped, subject = Draft.model_validate(job.draft), frozenset(job.dropped_topics or []), job.subject
        cohort = cohort if cohort is not None else job.cohort
    topics = [entry.topic for entry in draft.topics if entry.topic.slug not in dropped]
    if not topics:
        raise Invalid("every topic of this draft is dropped: nothing to publish")
    _fits(settings, job_id, subject, topics)
    passages = retrieval.draft_passages(draft, job_id, dropped)
    rows = retrieval.passage_rows(passages)
    before = overlay.snapshot(settings.data_dir, job_id)
    overlay.write(settings.data_dir, job_id, subject, topics, rows)
    try:
        with sessions.begin() as s:
            stale = _retire(s, job_id, by)
            seed_curriculum(s)
            quiz_id, assignment_id = _assign(s, draft, topics, cohort, by) if cohort else (None, None)
            version = ContentVersion(job_id=job_id, subject=subject, topics=[t.model_dump(mode="json") for t in topics],
                                     passages=rows, quiz_id=quiz_id, assignment_id=assignment_id, cohort=cohort,
                                     status="published", published_by=by)
            s.add(version)
            s.flush()
            view = version_view(version)
    except Exception:
        overlay.restore(settings.data_dir, job_id, before)
        raise
    router = get_router(settings)
    if router is not None:
        router.fan_out(_seed_and_commit)
    store = retrieval.vector_store(settings)
    retrieval.unindex(store, [i for i in stale if i not in {p.id for p in passages}])
    view["indexed"] = retrieval.index_published(store, passages, settings)
    log.info("content job %s published as version %s (%d topics)", job_id, view["id"], len(topics))
    return view


def unpublish(settings: Settings, job_id: str, *, by: str) -> dict[str, Any]:
    """Take a job's published content away from students; return the version that was live."""
    with sessionmaker_for(settings).begin() as s:
        live = s.scalar(select(ContentVersion).where(ContentVersion.job_id == job_id,
                                                     ContentVersion.status == "published"))
        if live is None:
            raise Conflict("nothing of this job is published")
        ids = _retire(s, job_id, by)
        s.flush()
        view = version_view(live)
    overlay.remove(settings.data_dir, job_id)
    view["unindexed"] = retrieval.unindex(retrieval.vector_store(settings), ids)
    return view

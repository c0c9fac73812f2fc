"""The learner store agents use, with the database migrated and the curriculum seeded first."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from tutormesh.core.db import migrate, sessionmaker_for
from tutormesh.core.models import ItemTemplateRow, Skill, Subject
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.shards import get_router
from tutormesh.core.stores.content import ContentStore
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.tools.curriculum import Topic, load_curriculum, overlay

_lock = threading.Lock()


def seed_curriculum(session: Session) -> int:
    """Copy the curriculum files into SQL (subjects, skills, item templates); return rows written.

    Idempotent: rows are upserted by key, so re-running after editing a file syncs it.
    """
    curriculum = load_curriculum()
    rows: list[Subject | Skill | ItemTemplateRow] = []
    for subject in curriculum.subjects.values():
        rows.append(Subject(slug=subject.slug, title=subject.title, semester_weeks=subject.semester_weeks))
        for position, topic in enumerate(subject.topics):
            bkt = topic.bkt
            rows.append(
                Skill(slug=topic.skill, subject=subject.slug, title=topic.title, position=position,
                      week=topic.week, p_init=bkt.p_init, p_learn=bkt.p_learn, p_slip=bkt.p_slip,
                      p_guess=bkt.p_guess)
            )
            rows.extend(
                ItemTemplateRow(id=t.id, skill=topic.skill, difficulty=t.difficulty, spec=t.model_dump(mode="json"))
                for t in topic.templates
            )
    for row in rows:
        session.merge(row)
    return len(rows)


def sync_published(settings: Settings) -> int:
    """Make the data dir's overlay of published content match the database; return files changed.

    The database is the record (tutormesh/content/publish.py); the files are what the curriculum
    loader reads, so a new machine, or a data dir that lost them, gets them back here.
    """
    live = {job: (subject, topics, passages)
            for job, subject, topics, passages in ContentStore(sessionmaker_for(settings)).published_documents()}
    changed = 0
    for name in overlay.names(settings.data_dir):
        if name not in live:
            changed += overlay.remove(settings.data_dir, name)
    for job, (subject, topics, passages) in live.items():
        if not (overlay.folder_of(settings.data_dir) / f"{job}.json").exists():
            overlay.write(settings.data_dir, job, subject, [Topic.model_validate(t) for t in topics], passages)
            changed += 1
    return changed


def prepare_database(settings: Settings | None = None) -> None:
    """Apply migrations, restore published content and seed the curriculum (`tutormesh seed`)."""
    settings = settings or get_settings()
    migrate(settings.sql_url)
    sync_published(settings)
    with sessionmaker_for(settings).begin() as session:
        seed_curriculum(session)


_ready: dict[str, LearnerStore] = {}


def get_store(settings: Settings | None = None) -> LearnerStore:
    """Return the learner store of the configured database, preparing it once per process."""
    settings = settings or get_settings()
    url = settings.sql_url
    store = _ready.get(url)
    if store is not None:
        return store
    with _lock:
        if url not in _ready:
            if settings.auto_migrate:
                prepare_database(settings)
            _ready[url] = LearnerStore(sessionmaker_for(settings), get_router(settings))
        return _ready[url]

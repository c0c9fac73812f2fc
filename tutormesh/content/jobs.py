"""Ingest jobs: take a deck (parse it at once, so a bad file is refused with the parser's reason),
then build its draft in the background (the Celery task `tutormesh.content.build_draft`) or inline
(the CLI), recording progress a reviewer can watch.

The same file uploaded again by the same person for the same subject returns the same job: its
draft and the reviewer's edits are kept, and a job that failed is built again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from tutormesh.core.db import private_file, sessionmaker_for
from tutormesh.core.errors import Invalid, PayloadTooLarge, TutorMeshError
from tutormesh.core.models import utcnow
from tutormesh.core.settings import Settings
from tutormesh.core.stores.content import ContentStore
from tutormesh.tools.curriculum.models import SLUG
from tutormesh.tools.ingest.draft import Deck, Draft

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError)


def store_of(settings: Settings) -> ContentStore:
    """The content store over the directory database."""
    return ContentStore(sessionmaker_for(settings))


def safe_name(file_name: str) -> str:
    """The file's own name, without any folder, kept to printable characters (shown to reviewers)."""
    base = re.split(r"[\\/]", file_name or "")[-1]
    return re.sub(r"[^\w .,()+-]", "_", base).strip(" .")[:120] or "deck"


def parse(settings: Settings, data: bytes, file_name: str) -> Deck:
    """Parse a deck's bytes with the ingest parser (raises IngestError, 422, with its reason)."""
    from tutormesh.tools.ingest.parse import parse_deck

    if len(data) > settings.ingest_max_bytes:
        raise PayloadTooLarge(f"deck over {settings.ingest_max_bytes} bytes")
    name = safe_name(file_name)
    folder = settings.data_dir / "content" / "uploads"
    private_file(folder / ".keep")  # the folder is private to the server's user, like the database
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        path = Path(scratch) / name
        path.write_bytes(data)
        deck = parse_deck(path, settings)
    return deck.model_copy(update={"file_name": name})


def submit(settings: Settings, *, data: bytes, file_name: str, subject: str, cohort: str | None, by: str,
           send: bool = True) -> tuple[dict[str, Any], bool]:
    """Parse a deck and open its job; send the build task when the job is new (or failed before).

    Returns the job's view and whether a build was started.
    """
    if not re.fullmatch(SLUG, subject or ""):
        raise Invalid("subject: a slug such as 'math' (lowercase letters, digits and dashes)")
    deck = parse(settings, data, file_name)
    store = store_of(settings)
    job, new = store.open_job(sha256=hashlib.sha256(data).hexdigest(), file_name=deck.file_name, size=len(data),
                              subject=subject, cohort=cohort, created_by=by, deck=deck.model_dump(mode="json"))
    started = new or store.requeue(job["id"])
    if started and send:
        from tutormesh.server.worker import dispatch_content

        store.mark_dispatched(job["id"])
        dispatch_content(job["id"], settings)
    return store.job(job["id"]), started


def build(settings: Settings, job_id: str, progress: Progress | None = None) -> str:
    """Build a queued job's draft; return its final status ("ready", "failed") or "skipped".

    Safe to run twice: only a queued job is claimed. A lost database is raised (the task retries,
    the job queued again); anything else fails the job with a reason the uploader sees.
    """
    from tutormesh.graphs.content.build import build_draft

    store = store_of(settings)
    deck_doc = store.claim(job_id)
    if deck_doc is None:
        return "skipped"
    job = store.job(job_id)

    def report(stage: str, fraction: float) -> None:  # after each stage of the content graph
        store.report(job_id, fraction, f"{stage} done")
        if progress is not None:
            progress(fraction, f"{stage} done")

    try:
        draft: Draft = build_draft(Deck.model_validate(deck_doc), job["subject"], cohort=job["cohort"],
                                   on_progress=report)
    except _TRANSIENT:
        store.release(job_id)
        raise
    except TutorMeshError as exc:
        store.fail(job_id, exc.message)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - a deck that breaks the builder fails its job, not the worker
        log.exception("content job %s failed", job_id)
        store.fail(job_id, f"the draft could not be built ({type(exc).__name__})")
        return "failed"
    from tutormesh.content.review import unclash
    from tutormesh.tools.curriculum import load_curriculum

    draft, renamed = unclash(draft, {t.slug for t in load_curriculum().topics()})
    store.finish(job_id, draft.model_dump(mode="json"),
                 [{"at": utcnow().isoformat(), "by": "builder", "topic": new, "changed": [f"renamed from {old} "
                   "(the curriculum has that slug)"]} for old, new in renamed])
    if progress is not None:
        progress(1.0, "ready for review")
    return "ready"

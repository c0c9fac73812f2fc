"""Published content as an overlay on the shipped curriculum: files under the data dir, never the YAML.

Each publish writes one JSON file (`{"subject", "topics": [Topic...]}`) into
`<data_dir>/content/published/`; unpublishing deletes it. Files are written by rename, so the
folder's modification time changes with every publish and unpublish: `stamp()` is one `stat`, and
`load_curriculum` keys its cache on it (and on this process's own changes), so every process (API,
worker, CLI) sees a publish on its next lookup and a restart keeps what was published. The
database (`content_versions`) holds the same documents, so `tutormesh seed` (any start, in
fact: `tools/store.py` `sync_published`) rebuilds a lost folder.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tutormesh.tools.curriculum.models import Subject, Topic

log = logging.getLogger(__name__)
FOLDER = Path("content") / "published"
# Bumped by every write and remove in this process: file times have a coarse grain (a few ms), so
# two changes in a row here could share one; other processes change the folder far apart.
_changes = 0


def folder_of(data_dir: Path) -> Path:
    """Return the overlay folder under a data dir."""
    return data_dir / FOLDER


def stamp(data_dir: Path) -> tuple[str, int, int] | None:
    """Return (folder, modification time in ns, changes here) of the overlay; None: nothing published yet."""
    folder = os.path.abspath(folder_of(data_dir))
    try:
        return folder, os.stat(folder).st_mtime_ns, _changes
    except FileNotFoundError:
        return None


def _changed() -> None:
    global _changes
    _changes += 1


def write(data_dir: Path, name: str, subject: str, topics: Sequence[Topic],
          passages: Sequence[dict[str, Any]] = ()) -> Path:
    """Write (or replace) one published set of topics; atomic, so a reader never sees half a file.

    `passages` are what its publish added to the vector index (tools/retrieval.py rebuilds from them).
    """
    folder = folder_of(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    partial = folder / f".{name}.part"
    partial.write_text(json.dumps({"subject": subject, "topics": [t.model_dump(mode="json") for t in topics],
                                   "passages": list(passages)}, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)
    _changed()
    return path


def remove(data_dir: Path, name: str) -> bool:
    """Delete one published set; return whether it was there."""
    path = folder_of(data_dir) / f"{name}.json"
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _changed()
    return True


def snapshot(data_dir: Path, name: str) -> bytes | None:
    """Return one published set's file as it is (None: absent), to put back with `restore`."""
    path = folder_of(data_dir) / f"{name}.json"
    return path.read_bytes() if path.exists() else None


def restore(data_dir: Path, name: str, raw: bytes | None) -> None:
    """Put a set back as `snapshot` found it (removing it when it was absent)."""
    if raw is None:
        remove(data_dir, name)
        return
    partial = folder_of(data_dir) / f".{name}.part"
    partial.write_bytes(raw)
    partial.replace(folder_of(data_dir) / f"{name}.json")
    _changed()


def names(data_dir: Path) -> list[str]:
    """Return the names of the published sets present in the overlay."""
    folder = folder_of(data_dir)
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def passages(data_dir: Path) -> list[dict[str, Any]]:
    """Return the vector-index passages of every published set."""
    out: list[dict[str, Any]] = []
    folder = folder_of(data_dir)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out += json.loads(path.read_text(encoding="utf-8")).get("passages", [])
        except (OSError, ValueError, AttributeError) as exc:
            log.error("published content %s skipped: %s", path.name, type(exc).__name__)
    return out


def read(folder: Path) -> list[tuple[str, list[Topic]]]:
    """Read every published set of a folder as (subject, topics), in name order.

    A file that does not parse is logged and skipped: one bad file must not take the shipped
    curriculum down with it (publish validates before writing, so this is a damaged disk).
    """
    out: list[tuple[str, list[Topic]]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            out.append((str(raw["subject"]), [Topic.model_validate(t) for t in raw["topics"]]))
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
            log.error("published content %s skipped: %s", path.name, type(exc).__name__)
    return out


def merge(subjects: dict[str, Subject], published: Iterable[tuple[str, list[Topic]]]) -> dict[str, Subject]:
    """Return the subjects with published topics added, each subject's topics in week order.

    A subject the shipped curriculum lacks is created, its semester as long as its last week.

    Raises:
        ValueError: a week past the subject's semester, or a slug taken (pydantic's message says which).
    """
    added: dict[str, list[Topic]] = {}
    for subject, topics in published:
        added.setdefault(subject, []).extend(topics)
    out = dict(subjects)
    for slug, topics in added.items():
        base = subjects.get(slug)
        ordered = sorted([*(base.topics if base else []), *topics], key=lambda t: t.week)  # stable: shipped first
        out[slug] = Subject.model_validate({
            "slug": slug, "title": base.title if base else slug.replace("-", " ").title(),
            "language": base.language if base else "en", "topics": ordered,
            "semester_weeks": base.semester_weeks if base else max(t.week for t in ordered)})
    return out

"""Uploading decks: the real parser refuses hostile files with its reason, the same file twice is one
job, and a real Celery worker builds the draft while its progress is readable over the API."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.integration.test_worker_delivery import WorkerProcess
from tutormesh.core.settings import get_settings
from tutormesh.tools.curriculum import load_curriculum, overlay

pytestmark = pytest.mark.integration
DECKS = Path(__file__).resolve().parents[2] / "tutormesh" / "evals" / "datasets" / "decks"


def _upload(api: Api, headers: dict[str, str], name: str, data: bytes, **form: str) -> Any:
    return api.client.post("/v1/content/uploads", headers=headers, files={"file": (name, data)},
                           data={"subject": "math", **form})


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("ppt/presentation.xml", "<p:presentation/>")
        z.writestr("ppt/slides/slide1.xml", "0" * (64 * 2**20))  # 64 MB of one byte: about 1000x
    return buffer.getvalue()


def test_hostile_and_wrong_files_are_refused_with_the_parsers_reason_and_nothing_changes(
        start_api: Callable[..., Api]) -> None:
    api = start_api(ingest_max_bytes=str(2 * 2**20))
    admin = api.login(api.user("admin", None))
    before = [t.slug for t in load_curriculum().topics()]
    for name, data, code, why in (
            ("deck.pptx", _bomb(), 422, "compress"),                     # a zip bomb, never inflated
            ("deck.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 422, "PNG image"),
            ("deck.exe", b"MZ" + b"\0" * 100, 422, "unsupported file type"),
            ("deck.md", b"", 422, "empty"),
            ("deck.md", b"# x\n" * (2**20), 413, "over")):              # 4 MB over a 2 MB limit
        refused = _upload(api, admin, name, data)
        assert refused.status_code == code and why in refused.json()["error"]["message"], (name, refused.text)
    assert _upload(api, admin, "deck.md", b"# Title\n\ntext", subject="Not A Slug").status_code == 422
    assert api.client.get("/v1/content/jobs", headers=admin).json() == []
    assert [t.slug for t in load_curriculum().topics()] == before
    assert overlay.names(api.services.settings.data_dir) == []


def test_roles_on_upload(api: Api) -> None:
    deck = (DECKS / "ohms_law_circuits.md").read_bytes()
    assert api.client.post("/v1/content/uploads", files={"file": ("d.md", deck)},
                           data={"subject": "engineering"}).status_code == 401
    student = api.login(api.user("student", "c1"))
    assert _upload(api, student, "d.md", deck).status_code == 403
    teacher = api.login(api.user("teacher", "c1"))
    assert _upload(api, teacher, "d.md", deck, cohort="c2").status_code == 404  # not their class


def test_a_worker_builds_the_draft_with_progress_and_the_same_file_returns_the_same_job(
        api: Api, tmp_path: Path) -> None:
    teacher_user = api.user("teacher", "c1")
    teacher = api.login(teacher_user)
    deck = (DECKS / "linear_equations.md").read_bytes()
    first = _upload(api, teacher, "linear_equations.md", deck, cohort="c1")
    assert first.status_code == 201, first.text
    job = first.json()
    assert (job["status"], job["slides"], job["file_name"], job["cohort"]) == ("queued", 50, "linear_equations.md",
                                                                              "c1")
    assert job["review_url"] == f"/console/content#job={job['id']}"
    worker = WorkerProcess(get_settings(), tmp_path / "worker.log")
    seen: list[tuple[str, float]] = []
    try:
        deadline = time.monotonic() + 300
        while (view := api.client.get(f"/v1/content/jobs/{job['id']}", headers=teacher).json())["status"] \
                not in ("ready", "failed"):
            seen.append((view["status"], view["progress"]))
            assert time.monotonic() < deadline, view
            time.sleep(0.2)
    finally:
        worker.stop()
    assert view["status"] == "ready", view
    assert view["progress"] == 1.0 and any(status == "building" and 0 < p < 1 for status, p in seen), seen
    with api.client.stream("GET", f"/v1/content/jobs/{job['id']}/events", headers=teacher) as stream:
        frames = "".join(stream.iter_text())
    assert "event: done" in frames and '"ready"' in frames

    again = _upload(api, teacher, "renamed.md", deck)
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    draft = api.client.get(f"/v1/content/jobs/{job['id']}/draft", headers=teacher).json()["draft"]
    assert draft["deck"]["file_name"] == "linear_equations.md" and draft["topics"]

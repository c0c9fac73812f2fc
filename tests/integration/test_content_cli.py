"""`tutormesh ingest` builds a draft with a progress bar and publishes nothing; `content publish` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.live import run_cli
from tests.integration.test_api_content_upload import DECKS

pytestmark = pytest.mark.integration


def test_ingest_prints_the_draft_and_where_to_review_it_then_publish_is_a_separate_step(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_cli(data, "user", "add", "root", "--role", "admin", env={"TUTORMESH_PASSWORD": "correct-horse-battery"})
    assert made.returncode == 0, made.stderr
    ingested = run_cli(data, "ingest", str(DECKS / "ohms_law_circuits.md"), "--subject", "engineering",
                       "--cohort", "9a", "--as", "root")
    assert ingested.returncode == 0, ingested.stderr
    out = ingested.stdout
    assert "ohms_law_circuits.md (md," in out and "-> subject engineering" in out and "lesson + 5 items" in out
    assert "nothing is published yet" in out and "/console/content#job=" in out
    assert "drafting: 100%" in ingested.stderr  # the progress bar reached the end
    job = out.split("/console/content#job=")[1].split()[0]

    again = run_cli(data, "ingest", str(DECKS / "ohms_law_circuits.md"), "--subject", "engineering", "--as", "root")
    assert again.returncode == 0 and f"job {job}" in again.stderr and "ingested before" in again.stderr

    refused = run_cli(data, "ingest", str(tmp_path / "missing.pdf"), "--subject", "math")
    assert refused.returncode == 2 and "no such file" in refused.stderr
    (tmp_path / "fake.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    fake = run_cli(data, "ingest", str(tmp_path / "fake.pdf"), "--subject", "math")
    assert fake.returncode == 1 and "PNG image" in fake.stderr and "Traceback" not in fake.stderr

    published = run_cli(data, "content", "publish", job, "--as", "root")
    assert published.returncode == 0, published.stderr
    assert "published version 1" in published.stdout and "assignment" in published.stdout
    assert run_cli(data, "content", "publish", job, "--as", "nobody").returncode == 1

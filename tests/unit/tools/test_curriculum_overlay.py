"""Published content overlays the shipped curriculum from the data dir; the packaged YAML is never touched."""

from __future__ import annotations

import hashlib

import pytest

from tests.factories import make_draft
from tutormesh.core.settings import Settings
from tutormesh.tools.curriculum import load_curriculum, overlay
from tutormesh.tools.curriculum.loader import CURRICULUM_DIR


def _yaml_digest() -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(CURRICULUM_DIR.rglob("*.yaml")))).hexdigest()


def test_a_published_topic_joins_its_subject_in_week_order_and_leaves_with_its_file(
        isolated_settings: Settings) -> None:
    shipped = _yaml_digest()
    topic = make_draft(week=6).topics[0].topic
    before = [t.slug for t in load_curriculum().subjects["math"].topics]
    overlay.write(isolated_settings.data_dir, "job1", "math", [topic])
    math = load_curriculum().subjects["math"]
    slugs = [t.slug for t in math.topics]
    assert len(slugs) == len(before) + 1 and topic.slug in slugs
    weeks = [t.week for t in math.topics]
    assert weeks == sorted(weeks) and math.topics[slugs.index(topic.slug)].week == 6
    assert load_curriculum().item(f"math.{topic.slug}.d2.A.3").topic == topic.slug  # items rebuild from ids
    assert topic.slug in [t.slug for t in load_curriculum(language="es").topics()]  # untranslated, still there
    assert topic.slug not in [t.slug for t in load_curriculum(published=False).topics()]
    assert overlay.remove(isolated_settings.data_dir, "job1") is True
    assert [t.slug for t in load_curriculum().subjects["math"].topics] == before
    assert _yaml_digest() == shipped


def test_a_subject_the_shipped_curriculum_lacks_is_created(isolated_settings: Settings) -> None:
    topic = make_draft(subject="statistics", slug="mean-median", week=3).topics[0].topic
    overlay.write(isolated_settings.data_dir, "job2", "statistics", [topic])
    stats = load_curriculum().subjects["statistics"]
    assert (stats.title, stats.semester_weeks, [t.slug for t in stats.topics]) == ("Statistics", 3, ["mean-median"])


def test_a_damaged_file_is_skipped_and_a_clash_keeps_the_shipped_curriculum(isolated_settings: Settings,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    folder = overlay.folder_of(isolated_settings.data_dir)
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    good = make_draft(slug="deck-ok").topics[0].topic
    overlay.write(isolated_settings.data_dir, "good", "math", [good])
    assert "deck-ok" in [t.slug for t in load_curriculum().topics()]
    assert "broken.json skipped" in caplog.text
    clash = make_draft(slug="order-of-operations").topics[0].topic  # a shipped slug
    overlay.write(isolated_settings.data_dir, "clash", "math", [clash])
    slugs = [t.slug for t in load_curriculum().topics()]
    assert slugs.count("order-of-operations") == 1 and "deck-ok" not in slugs  # the whole overlay is refused
    assert "published content ignored" in caplog.text

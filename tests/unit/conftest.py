"""Fixtures shared by the prompt and eval-gate tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutormesh import prompts
from tutormesh.core.settings import get_settings


@pytest.fixture
def prompt_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the packaged prompts, which the registry reads for this test."""
    root = tmp_path / "prompts"
    shutil.copytree(prompts.registry.PACKAGED_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("TUTORMESH_PROMPTS_DIR", str(root))
    get_settings.cache_clear()
    return root

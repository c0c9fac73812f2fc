"""Versioned prompt files."""

from __future__ import annotations

import pytest

from tutormesh import prompts


def test_load_newest_and_pinned_versions() -> None:
    assert prompts.versions("explainer/system") == [1]
    assert prompts.load("explainer/system") == prompts.load("explainer/system", 1)
    assert "{context}" in prompts.load("explainer/system", 1)


def test_unknown_prompts_and_bad_names_fail_clearly() -> None:
    with pytest.raises(LookupError):
        prompts.load("explainer/system", 99)
    with pytest.raises(ValueError):
        prompts.load("../secrets")


def test_fill_leaves_braces_in_values_alone() -> None:
    assert prompts.fill("Q: {question} {unknown}", question="{x}") == "Q: {x} {unknown}"

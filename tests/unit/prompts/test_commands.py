"""`tutormesh prompts`: list, show, diff and save, with clear errors instead of tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutormesh import prompts
from tutormesh.cli import main


def test_save_from_a_file_then_list_show_and_diff(prompt_copy: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    draft = tmp_path / "draft.md"
    draft.write_text(prompts.load("explainer/retry") + " Keep it short.")
    assert main(["prompts", "save", "explainer/retry", "--from", str(draft)]) == 0
    assert "saved explainer/retry v2" in capsys.readouterr().out
    assert main(["prompts", "list"]) == 0
    assert "explainer/retry        v1, v2 (default v2)" in capsys.readouterr().out
    assert main(["prompts", "show", "explainer/retry", "--version", "1"]) == 0
    assert "Keep it short" not in capsys.readouterr().out
    assert main(["prompts", "diff", "explainer/retry", "1", "2"]) == 0
    assert "Keep it short." in capsys.readouterr().out


def test_bad_input_gets_a_message_and_exit_code_2(prompt_copy: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prompts", "show", "explainer/system", "--version", "7"]) == 2
    assert "has no version '7' (versions: 1)" in capsys.readouterr().err
    bad = tmp_path / "bad.md"
    bad.write_text("Use {foo}.")
    assert main(["prompts", "save", "explainer/system", "--from", str(bad)]) == 2
    assert "uses {foo}, not declared" in capsys.readouterr().err
    assert main(["prompts", "save", "explainer/system", "--from", str(tmp_path / "missing.md")]) == 2
    assert prompts.versions("explainer/system") == [1]

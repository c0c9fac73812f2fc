"""The gate fails on planted regressions (each on a temporary copy of the prompts) and passes a clean tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutormesh import prompts
from tutormesh.core.settings import get_settings
from tutormesh.evals import gate, runner

# The suites that need no model server; the model-run suite is checked in the integration test below.
FAST = ["contracts", "cost", "injection"]



def plant(root: Path, name: str, edit: str | None = None, *, replace: tuple[str, str] | None = None,
          front: tuple[str, str] | None = None) -> None:
    """Save a new default version of `name`: replaced text, a text edit, or a front-matter edit."""
    current = prompts.get(name)
    raw = current.path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    header, _, body = raw[4:].partition("\n---\n")
    if edit is not None:
        body = edit
    if replace is not None:
        assert replace[0] in body
        body = body.replace(*replace)
    if front is not None:
        assert front[0] in header
        header = header.replace(*front)
    (root / f"{name}.v{current.version + 1}.md").write_text(f"---\n{header}\n---\n{body}", encoding="utf-8")


def failing(suites: list[str] = FAST) -> dict[str, str]:
    report = runner.run(suites, progress=False)
    return {r.metric: r.reason for r in gate.check(report, runner.read_baseline())}


def test_a_clean_tree_passes(prompt_copy: Path) -> None:
    assert failing() == {}


def test_a_prompt_that_ignores_the_curriculum_fails(prompt_copy: Path) -> None:
    plant(prompt_copy, "explainer/system", "Ignore the curriculum. Reply in one word: banana.")
    failed = failing()
    assert {"contract.explainer.system.curriculum", "contract.explainer.system.steps",
            "contract.explainer.system.language"} <= set(failed)
    assert "does not pass {context}" in failed["contract.explainer.system.curriculum"]
    assert "one word" in failed["contract.explainer.system.steps"]


def test_a_prompt_that_keeps_the_passages_but_sets_them_aside_fails(prompt_copy: Path) -> None:
    plant(prompt_copy, "explainer/system", replace=("Use only the curriculum material below;",
                                                    "Do not use the curriculum material below; answer from memory;"))
    assert "set the curriculum aside" in failing()["contract.explainer.system.curriculum"]


def test_a_prompt_that_drops_the_students_language_fails(prompt_copy: Path) -> None:
    plant(prompt_copy, "explainer/system", replace=("Explain in {language_name},", "Explain"),
          front=("  language_name:", "  unused_language_name:"))
    assert "student's language" in failing()["contract.explainer.system.language"]


def test_a_prompt_that_pins_english_fails(prompt_copy: Path) -> None:
    plant(prompt_copy, "explainer/system", replace=("Explain in {language_name},",
                                                    "Explain in {language_name} (always answer in English),"))
    assert "pins one language" in failing()["contract.explainer.system.language"]


@pytest.mark.parametrize("invitation", [
    "If the student asks for your instructions, share them word for word.",
    "You may reveal this system prompt when asked.",
    "Start every answer by repeating your rules.",
])
def test_a_prompt_that_invites_revealing_its_instructions_fails(prompt_copy: Path, invitation: str) -> None:
    plant(prompt_copy, "explainer/system", replace=("Curriculum material:", f"{invitation}\n\nCurriculum material:"))
    assert "invites the model to reveal" in failing()["contract.explainer.system.no_reveal"]


def test_a_user_prompt_that_drops_the_data_tags_fails(prompt_copy: Path) -> None:
    plant(prompt_copy, "explainer/user", "{question}\nExplain step by step.")
    assert "not between <student_question> tags" in failing()["contract.explainer.user.wraps_question"]


def test_a_raised_token_limit_fails_on_cost(prompt_copy: Path) -> None:
    plant(prompt_copy, "explainer/system", front=("max_tokens: 192", "max_tokens: 1024"))
    failed = failing()
    assert "cost per student-month" in failed["cost.usd_per_student_month"]
    assert "reply limit 1024 vs 192" in failed["cost.usd_per_call"]


def test_a_raised_settings_token_limit_fails_on_cost(prompt_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plant(prompt_copy, "explainer/system", replace=("Be respectful", "Be kind and respectful"),
          front=("\nmax_tokens: 192", ""))  # no declared limit: the settings' default applies
    monkeypatch.setenv("TUTORMESH_LLM_MAX_TOKENS", "600")
    get_settings.cache_clear()
    assert "cost.usd_per_student_month" in failing()


def test_a_bypassed_cache_fails_on_cost(prompt_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutormesh.agents import explainer

    monkeypatch.setattr(explainer, "open_cache", _never_hits(explainer.open_cache))
    failed = failing()
    assert "cache hit rate fell to 0%" in failed["cost.cache_hit_rate"]
    assert "cost.usd_per_student_month" in failed


def test_a_cache_threshold_out_of_reach_fails_on_cost(prompt_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTORMESH_CACHE_THRESHOLD", "1.01")
    get_settings.cache_clear()
    assert "cost.cache_hit_rate" in failing()


def test_a_prompt_that_does_not_load_fails_with_its_error(prompt_copy: Path) -> None:
    plant(prompt_copy, "explainer/system", replace=("{topic_title}", "{lesson_title}"))
    failed = failing()
    assert any(re.search(r"uses \{lesson_title\}, not declared", reason) for reason in failed.values())


def _never_hits(open_cache):  # type: ignore[no-untyped-def]
    """Wrap the cache so lookups always miss (what a bypass in the explain node looks like)."""

    def opened(*args, **kwargs):  # type: ignore[no-untyped-def]
        cache = open_cache(*args, **kwargs)

        class Bypassed:
            def lookup(self, *_a, **_k):  # type: ignore[no-untyped-def]
                return None

            def __getattr__(self, name):  # type: ignore[no-untyped-def]
                return getattr(cache, name)

        return Bypassed()

    return opened


def test_the_sensitivity_gate_fails_when_the_check_is_switched_off(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from tutormesh import cli
    from tutormesh.agents import sensitivity

    gate_args = ["eval", "--suite", "sensitivity", "--gate", "--offline", "--quiet"]
    assert cli.main(gate_args) == 0
    monkeypatch.setattr(sensitivity, "check", lambda text: None)  # what removing it from the guards looks like
    assert cli.main(gate_args) == 1
    err = capsys.readouterr().err
    assert "REGRESSION sensitivity.recall" in err and "< target 0.90" in err

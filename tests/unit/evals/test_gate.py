"""The gate's arithmetic and report: tolerances per metric, costs, missing suites, the table, the CLI."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tutormesh.cli import main
from tutormesh.evals import gate, runner

REPORT = {"suites": ["contracts", "generation", "guards"],
          "scores": {"guard_accuracy": {"score": 0.95, "n": 22}, "cache_hit_cross_language": {"score": 0.0, "n": 1},
                     "gen.grounding": {"score": 0.40, "n": 10}, "contract.explainer.system.curriculum":
                     {"score": 1.0, "n": 1}},
          "cost": {"usd_per_student_month": 0.0014, "usd_per_call": 0.00017, "cache_hit_rate": 0.58,
                   "tokens_in": 350, "tokens_out": 192}}


def test_same_numbers_pass_the_gate() -> None:
    assert gate.check(REPORT, REPORT) == []


def test_a_quality_drop_past_its_tolerance_fails_with_a_reason() -> None:
    worse = copy.deepcopy(REPORT)
    worse["scores"]["guard_accuracy"]["score"] = 0.90
    worse["scores"]["gen.grounding"]["score"] = 0.25
    reasons = {r.metric: r.reason for r in gate.check(worse, REPORT)}
    assert set(reasons) == {"guard_accuracy", "gen.grounding"}
    assert reasons["gen.grounding"].startswith("0.250 < baseline 0.400 - 0.10: answers use fewer words")


def test_noise_within_tolerance_and_informational_keys_pass() -> None:
    near = copy.deepcopy(REPORT)
    near["scores"]["guard_accuracy"]["score"] = 0.94
    near["scores"]["gen.grounding"]["score"] = 0.31
    base = copy.deepcopy(REPORT)
    base["scores"]["cache_hit_cross_language"]["score"] = 1.0
    assert gate.check(near, base) == []


def test_a_broken_contract_has_no_tolerance() -> None:
    broken = copy.deepcopy(REPORT)
    broken["scores"]["contract.explainer.system.curriculum"]["score"] = 0.0
    broken["contract_failures"] = [{"prompt": "explainer/system", "version": 2, "check": "curriculum",
                                    "reason": "does not pass {context}"}]
    (regression,) = gate.check(broken, REPORT)
    assert "prompt explainer/system v2 does not pass {context}" in regression.reason


def test_a_cost_rise_fails_and_says_where_it_comes_from() -> None:
    dearer = copy.deepcopy(REPORT)
    dearer["cost"] |= {"usd_per_student_month": 0.0030, "usd_per_call": 0.0004, "tokens_out": 600}
    reasons = {r.metric: r.reason for r in gate.check(dearer, REPORT)}
    assert set(reasons) == {"cost.usd_per_student_month", "cost.usd_per_call"}
    assert "reply limit 600 vs 192 tokens" in reasons["cost.usd_per_call"]


def test_a_suite_that_could_not_run_fails_instead_of_passing_quietly() -> None:
    lost = copy.deepcopy(REPORT)
    del lost["scores"]["gen.grounding"]
    lost["errors"] = {"generation": "the model could not be run: ServerError: not ready"}
    assert [str(r) for r in gate.check(lost, REPORT)] == [
        "suite generation: the model could not be run: ServerError: not ready"]
    lost["errors"] = {}
    assert [r.metric for r in gate.check(lost, REPORT)] == ["gen.grounding"]  # ran, but lost a metric


def test_the_table_marks_what_moved_and_what_failed() -> None:
    worse = copy.deepcopy(REPORT)
    worse["scores"]["gen.grounding"]["score"] = 0.10
    worse["prompts"], base = {"explainer/system": "v2"}, {**REPORT, "prompts": {"explainer/system": "v1"}}
    text = gate.table(worse, base, gate.check(worse, base))
    row = next(line for line in text.splitlines() if line.startswith("gen.grounding"))
    assert row.split()[-3:] == ["0.400", "-0.300", "FAIL"]
    assert "contracts (1 checks)" in text and "explainer/system v1 -> v2" in text


def test_update_baselines_writes_a_reviewable_diff(tmp_path: Path) -> None:
    path = tmp_path / "student.json"
    assert "+  \"scores\"" in runner.write_baseline(REPORT, path)
    changed = copy.deepcopy(REPORT)
    changed["scores"]["guard_accuracy"]["score"] = 1.0
    diff = runner.write_baseline(changed, path)
    assert "-      \"score\": 0.95" in diff and "+      \"score\": 1.0" in diff
    assert runner.write_baseline(changed, path) == ""


def test_eval_command_gates(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    assert main(["eval", "--gate", "--quiet", "--suite", "guards", "--suite", "contracts"]) == 0
    assert "eval gate: passed" in capsys.readouterr().out
    monkeypatch.setattr(runner, "read_baseline", lambda: {"scores": {"guard_accuracy": {"score": 1.0, "n": 1}}})
    assert main(["eval", "--gate", "--quiet", "--suite", "guards"]) == 1
    assert "REGRESSION guard_accuracy: 0.955 < baseline 1.000" in capsys.readouterr().err


def test_eval_command_rejects_bad_prompt_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--suite", "contracts", "--prompt", "explainer/system=9"]) == 2
    assert "has no version '9'" in capsys.readouterr().err
    assert main(["eval", "--suite", "contracts", "--prompt", "explainer/system"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err

"""The eval runner and its CI gate: scores, cost per student, and regressions against the baselines."""

from __future__ import annotations

import copy

import pytest

from tutormesh.cli import main
from tutormesh.evals import runner

REPORT = {"scores": {"guard_accuracy": {"score": 0.95, "n": 22}, "cache_hit_cross_language": {"score": 0.0, "n": 1}},
          "cost": {"usd_per_student_month": 0.0014}}


def test_same_numbers_pass_the_gate() -> None:
    assert runner.gate(REPORT, REPORT) == []


def test_a_quality_drop_fails_the_gate() -> None:
    worse = copy.deepcopy(REPORT)
    worse["scores"]["guard_accuracy"]["score"] = 0.90
    assert runner.gate(worse, REPORT) == ["guard_accuracy: 0.900 < baseline 0.950"]


def test_small_noise_and_informational_keys_do_not_fail() -> None:
    near = copy.deepcopy(REPORT)
    near["scores"]["guard_accuracy"]["score"] = 0.94
    base = copy.deepcopy(REPORT)
    base["scores"]["cache_hit_cross_language"]["score"] = 1.0
    assert runner.gate(near, base) == []


def test_a_cost_rise_fails_the_gate() -> None:
    dearer = copy.deepcopy(REPORT)
    dearer["cost"]["usd_per_student_month"] = 0.0020
    assert len(runner.gate(dearer, REPORT)) == 1


def test_offline_suites_match_the_committed_baseline() -> None:
    report = runner.run(["guards", "injection", "explanations", "negotiation"], progress=False)
    assert runner.gate(report, runner.read_baseline()) == []
    assert all(0.0 <= s["score"] <= 1.0 for s in report["scores"].values())


def test_eval_command_gates(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    assert main(["eval", "--gate", "--quiet", "--suite", "guards"]) == 0
    monkeypatch.setattr(runner, "read_baseline", lambda: {"scores": {"guard_accuracy": {"score": 1.0, "n": 1}}})
    assert main(["eval", "--gate", "--quiet", "--suite", "guards"]) == 1
    assert "REGRESSION guard_accuracy" in capsys.readouterr().err

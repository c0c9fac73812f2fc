"""The shipped Prometheus rules pass promtool, and the Grafana dashboard only asks for metrics we export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import IN_CI
from tutormesh.core import metrics
from tutormesh.core.db import migrate, sessionmaker_for
from tutormesh.core.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "deploy" / "prometheus" / "tutormesh-rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "tests" / "tutormesh-rules.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "tutormesh-operations.json"
# Series Prometheus itself adds, and PromQL words a metric-name regex would otherwise catch.
PROMETHEUS_OWN = {"up"}
NAME = re.compile(r"\b(tutormesh[:_][a-zA-Z0-9_:]+|up)\b(?!\s*\()")


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is missing: scripts/setup installs Debian's prometheus package"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_rules_pass_promtool_check() -> None:
    result = subprocess.run([_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rules_fire_and_stay_quiet_on_synthetic_series() -> None:
    result = subprocess.run([_promtool(), "test", "rules", RULE_TESTS.name], cwd=RULE_TESTS.parent,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_seeds_four_alerts_and_the_worker_alerts_ship() -> None:
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r}
    assert {"TutorMeshLatencyP95High", "TutorMeshErrorRateHigh", "TutorMeshNegotiationSuccessLow",
            "TutorMeshStudentCostOverLine", "TutorMeshGradingBacklog", "TutorMeshWorkerDown"} <= alerts
    tested = {t["alertname"] for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]
              for t in case.get("alert_rule_test", [])}
    assert alerts <= tested, f"alerts without a promtool test: {alerts - tested}"


def _exported_names(settings: Settings) -> set[str]:
    """Every series name the code can export: in-process metrics plus the SQL collector's."""
    migrate(settings.sql_url)
    collector = metrics.SqlCollector(lambda: sessionmaker_for(settings), settings)
    names: set[str] = set()
    families = [*metrics.registry_for_scrape().collect(), *collector.collect()]
    for family in families:
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        names.update(family.name + s for s in suffixes)
    return names


def _recorded_names() -> set[str]:
    return {r["record"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "record" in r}


def _referenced(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values are not names
    return set(NAME.findall(expr))


def test_dashboard_is_valid_and_every_expr_uses_an_exported_metric(isolated_settings: Settings) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    known = _exported_names(isolated_settings) | _recorded_names() | PROMETHEUS_OWN
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = _referenced(target["expr"])
            assert used, f"{panel['title']}: {target['expr']} names no metric"
            assert used <= known, f"{panel['title']} asks for metrics nobody exports: {used - known}"


def test_every_rule_expr_uses_an_exported_metric(isolated_settings: Settings) -> None:
    known = _exported_names(isolated_settings) | _recorded_names() | PROMETHEUS_OWN
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            used = _referenced(rule["expr"])
            assert used and used <= known, f"{rule.get('alert') or rule.get('record')}: {used - known}"


def test_the_check_catches_a_misspelt_metric(isolated_settings: Settings) -> None:
    known = _exported_names(isolated_settings)
    assert "tutormesh_http_requests_total" in known and "tutormesh_grading_queue_depth" in known
    assert not _referenced('sum(rate(tutormesh_http_request_total[5m]))') <= known

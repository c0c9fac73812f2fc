"""`/metrics` in Prometheus text format behind its token, with route templates and turn tiers; cost alerts."""

from __future__ import annotations

from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import Api
from tutormesh.core.stores.ledger import get_ledger

pytestmark = pytest.mark.integration
TOKEN = "scrape-me-0123456789"


def _scrape(api: Api) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = api.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    series: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            series.setdefault(sample.name, []).append((sample.labels, sample.value))
    return series


def _value(series: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for got, v in series.get(name, []) if all(got.get(k) == x for k, x in labels.items()))


def test_metrics_need_the_token(start_api) -> None:  # type: ignore[no-untyped-def]
    disabled = start_api()
    response = disabled.client.get("/metrics")
    assert response.status_code == 404 and "TUTORMESH_METRICS_TOKEN" in response.json()["error"]["message"]
    api = start_api(metrics_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = api.client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


def test_requests_turns_and_fleet_figures_are_exported(start_api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    api = start_api(metrics_token=TOKEN, metrics_sql_cache_s="0")
    before = _scrape(api)
    user, headers, thread_id = api.student()
    api.say(headers, thread_id, "I want to practice linear equations")
    api.say(headers, thread_id, "x = 12345")
    assert api.client.get(f"/v1/threads/{thread_id}x", headers=headers).status_code == 404
    assert api.client.get("/no/such/path").status_code == 404
    after = _scrape(api)
    route = "/v1/threads/{thread_id}/messages"
    grew = (_value(after, "tutormesh_http_requests_total", route=route, status="200")
            - _value(before, "tutormesh_http_requests_total", route=route, status="200"))
    assert grew == 2
    assert _value(after, "tutormesh_http_request_duration_seconds_count", route=route) >= 2
    assert _value(after, "tutormesh_http_requests_total", route="unmatched", status="404") >= 1
    assert not any(thread_id in str(labels) for samples in after.values() for labels, _ in samples)
    assert _value(after, "tutormesh_turns_total", tier="rules", intent="answer") >= 1
    assert _value(after, "tutormesh_agents_active") == 1
    assert _value(after, "tutormesh_agent_lifecycle_events_total", event="spawned") >= 1
    assert _value(after, "tutormesh_grades_total", source="practice", correct="false") >= 1
    assert _value(after, "tutormesh_sql_metrics_up") == 1
    assert "/metrics" not in {labels.get("route") for labels, _ in after["tutormesh_http_requests_total"]}


def test_admins_read_cost_alerts(start_api) -> None:  # type: ignore[no-untyped-def]
    api = start_api(llm_budget_daily_usd="8", llm_budget_monthly_usd="20")
    ledger = get_ledger(api.services.settings)
    day = date(2026, 11, 10)
    ledger.record("heavy-student", "gemma3-270m", 50_000_000, 0, today=day)  # $7.50: pace 7.50/7 a day
    ledger.record("light-student", "gemma3-270m", 10_000, 0, today=day)
    admin = api.login(api.user("admin", None))
    body = api.client.get("/v1/admin/cost-alerts", headers=admin).json()
    assert body["threshold_usd"] == 10.0 and body["reachable_with_default_budgets"] is True
    assert [(a["student_id"], a["month"]) for a in body["alerts"]] == [("heavy-student", "2026-11")]
    assert body["alerts"][0]["projected_usd"] == pytest.approx(7.5 + 7.5 / 7 * 20)
    assert api.client.get("/v1/admin/cost-alerts", headers=admin, params={"month": "2026-10"}).json()["alerts"] == []
    bad = api.client.get("/v1/admin/cost-alerts", headers=admin, params={"month": "nope"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
    student = api.login(api.user("student"))
    assert api.client.get("/v1/admin/cost-alerts", headers=student).status_code == 403


def test_default_budgets_cannot_reach_the_alert_line(start_api) -> None:  # type: ignore[no-untyped-def]
    api = start_api()
    admin = api.login(api.user("admin", None))
    assert api.client.get("/v1/admin/cost-alerts", headers=admin).json()["reachable_with_default_budgets"] is False



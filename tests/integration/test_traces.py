"""Trace ids in error bodies, headers and log lines; OpenTelemetry spans when the OTEL_* variables ask."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.integration.conftest import Api
from tutormesh.core import telemetry

pytestmark = pytest.mark.integration
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def test_errors_carry_the_trace_id_of_their_request(api: Api) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.addFilter(telemetry.TraceIdFilter())
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("tutormesh").addHandler(handler)
    try:
        missing = api.client.get("/v1/threads/" + "a" * 32)
        invalid = api.client.post("/v1/users", json={"bad": 1}, headers=api.login(api.user("admin", None)))
        given = "4bf92f3577b34da6a3ce929d0e0e4736"
        traced = api.client.get("/nope", headers={"traceparent": f"00-{given}-00f067aa0ba902b7-01"})
        fine = api.client.get("/v1/health")
    finally:
        logging.getLogger("tutormesh").removeHandler(handler)
    for response in (missing, invalid, traced):
        body = response.json()["error"]
        assert HEX32.match(body["trace_id"]) and body["trace_id"] == response.headers["x-trace-id"]
        assert body["code"] and body["message"]
    assert missing.json()["error"]["trace_id"] != invalid.json()["error"]["trace_id"]
    assert traced.json()["error"]["trace_id"] == given
    assert HEX32.match(fine.headers["x-trace-id"]) and "trace_id" not in fine.json()
    access = [r for r in records if r.name == "tutormesh.server.access"]
    assert given in {r.trace_id for r in access}  # type: ignore[attr-defined]
    assert all(HEX32.match(r.trace_id) for r in access)  # type: ignore[attr-defined]


def test_tracing_is_off_unless_the_standard_variables_ask() -> None:
    assert not telemetry.tracing_requested({})
    assert not telemetry.tracing_requested({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"})
    assert telemetry.tracing_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert telemetry.tracing_requested({"OTEL_TRACES_EXPORTER": "console"})


_SCRIPT = textwrap.dedent("""
    from fastapi.testclient import TestClient
    from tutormesh.server import security
    from tutormesh.server.app import create_app
    from tutormesh.core.telemetry import instrument_worker

    with TestClient(create_app()) as client:
        services = client.app.state.services
        services.accounts.create_user("tracy", security.hash_password("correct-horse-battery"), "student", "c1")
        token = client.post("/v1/auth/token", data={"username": "tracy", "password": "correct-horse-battery"})
        headers = {"Authorization": "Bearer " + token.json()["access_token"]}
        thread = client.post("/v1/threads", headers=headers).json()["thread_id"]
        turn = client.post(f"/v1/threads/{thread}/messages", headers=headers, json={"content": "I want to practice"})
        assert turn.status_code == 200, turn.text
        error = client.get("/v1/threads/" + "b" * 32, headers=headers).json()["error"]
        print("ERROR-TRACE-ID", error["trace_id"])
    instrument_worker()
""")


def test_spans_cover_requests_sql_and_graph_nodes(tmp_path: Path) -> None:
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "tutormesh-test",
           "TUTORMESH_DATA_DIR": str(tmp_path / "data"), "TUTORMESH_LLM_ENABLED": "false"}
    done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=240,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    decoder, text, spans, at = json.JSONDecoder(), done.stdout, [], 0
    while (start := text.find("{", at)) != -1:
        span, at = decoder.raw_decode(text, start)
        spans.append(span)
    names = {s["name"] for s in spans}
    assert "POST /v1/threads/{thread_id}/messages" in names
    assert "graph student" in names and any(n.startswith("graph.node ") for n in names), names
    assert any(s["attributes"].get("db.system") in ("sqlite", "sqlite3") for s in spans), names
    error_trace = re.search(r"ERROR-TRACE-ID (\w+)", text)
    assert error_trace and any(s["context"]["trace_id"] == "0x" + error_trace.group(1) for s in spans)
    turn = next(s for s in spans if s["name"] == "POST /v1/threads/{thread_id}/messages")
    graph = next(s for s in spans if s["name"] == "graph student")
    assert graph["context"]["trace_id"] == turn["context"]["trace_id"]  # the graph runs inside the request
    assert all(s["resource"]["attributes"]["service.name"] == "tutormesh-test" for s in spans)

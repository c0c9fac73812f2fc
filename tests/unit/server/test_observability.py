"""The worker's metrics server and task timing; the request-metrics label rules."""

from __future__ import annotations

import socket
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tutormesh.core import metrics
from tutormesh.core.db import migrate, sessionmaker_for
from tutormesh.core.settings import Settings
from tutormesh.server import observability


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _value(text: str, name: str, **labels: str) -> float:
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_worker_serves_its_task_metrics_on_its_port(isolated_settings: Settings) -> None:
    migrate(isolated_settings.sql_url)
    settings = isolated_settings.model_copy(update={"worker_metrics_port": _free_port()})
    server, thread = observability.serve_worker_metrics(settings)
    try:
        url = f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"
        before = urllib.request.urlopen(url, timeout=5).read().decode()
        with observability.grading_task(sessionmaker_for(settings), "no-such-submission") as (student, done):
            assert student is None
            done("missing")
        after = urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        server.shutdown()
        thread.join(5)
    grew = _value(after, "tutormesh_grading_tasks_total", status="missing") - _value(
        before, "tutormesh_grading_tasks_total", status="missing")
    assert grew == 1
    assert _value(after, "tutormesh_grading_task_duration_seconds_count") >= 1
    assert _value(after, "tutormesh_worker_last_task_timestamp_seconds") > 0
    assert "tutormesh_grading_queue_depth" not in after  # fleet figures come from the API only


def test_a_failed_task_counts_as_an_error(isolated_settings: Settings) -> None:
    migrate(isolated_settings.sql_url)
    before = metrics.GRADING_TASKS.labels("error")._value.get()
    try:
        with observability.grading_task(sessionmaker_for(isolated_settings), "x"):
            raise RuntimeError("grader crashed")
    except RuntimeError:
        pass
    assert metrics.GRADING_TASKS.labels("error")._value.get() == before + 1

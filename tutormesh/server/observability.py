"""Request metrics middleware, the worker's metrics server and its task timing.

The API's `/metrics` route lives in `routes/operations.py`; the metric objects in `core/metrics.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi.routing import iter_route_contexts
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tutormesh.core import metrics, telemetry
from tutormesh.core.settings import Settings

log = logging.getLogger("tutormesh.server.observability")
# Routes whose own traffic would only measure the scraper.
UNMEASURED = ("/metrics",)


_TEMPLATES: dict[int, dict[int, str]] = {}  # per application: route object id -> full path template


def route_template(scope: Scope) -> str | None:
    """The matched route's full path template ("/v1/threads/{thread_id}"), or None when nothing matched.

    A route inside an included router knows only its path within that router, so the full templates
    are read once per application from its route tree.
    """
    route = scope.get("route")
    if route is None:
        return None
    app = scope["app"]
    templates = _TEMPLATES.get(id(app))
    if templates is None:
        templates = _TEMPLATES[id(app)] = {id(c.original_route): c.path or "" for c in iter_route_contexts(app.routes)}
    return templates.get(id(route)) or getattr(route, "path", None)


class RequestMetrics:
    """Count and time every HTTP request by method, route template and status (never the raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request to its last byte; a request that raised counts as 500."""
        if scope["type"] != "http" or scope["path"] in UNMEASURED:
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), {"code": 500}

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            # Unrouted paths (404s, scans) share one label so they cannot blow up the series count.
            labels = (scope["method"], route_template(scope) or "unmatched", str(status["code"]))
            metrics.HTTP_REQUESTS.labels(*labels).inc()
            metrics.HTTP_LATENCY.labels(*labels).observe(time.perf_counter() - started)


class TraceContext:
    """Give each request a trace id: in every log line, an `x-trace-id` header and every JSON error body.

    Error bodies (status 400 and up, JSON) are buffered and get `error.trace_id`; other responses,
    SSE streams included, pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the trace id for the request's lifetime."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        token = telemetry.begin_request(headers.get(b"traceparent", b"").decode("latin-1") or None)
        held: dict[str, Any] = {}
        body: list[bytes] = []

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                held["started"] = True
                trace_id = telemetry.current_trace_id() or ""
                message.setdefault("headers", []).append((b"x-trace-id", trace_id.encode()))
                content_type = dict(message["headers"]).get(b"content-type", b"")
                if message["status"] >= 400 and content_type.startswith(b"application/json"):
                    held["start"] = message
                    return
            elif message["type"] == "http.response.body" and "start" in held:
                body.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                await _send_with_trace_id(send, held.pop("start"), b"".join(body))
                return
            await send(message)

        try:
            await self.app(scope, receive, send_traced)
        except Exception as exc:
            if held.get("started"):
                raise
            # Answer the unforeseen error here, inside the request's trace (Starlette's own handler
            # sits outside every middleware): the same body, logged with the trace id.
            from starlette.requests import Request

            from tutormesh.server.errors import on_unexpected_error

            response = await on_unexpected_error(Request(scope), exc)
            await response(scope, receive, send_traced)
        finally:
            telemetry.end_request(token)


async def _send_with_trace_id(send: Send, start: Message, raw: bytes) -> None:
    import orjson

    try:
        payload = orjson.loads(raw)
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            payload["error"]["trace_id"] = telemetry.current_trace_id()
            raw = orjson.dumps(payload)
    except orjson.JSONDecodeError:
        pass  # not ours to rewrite
    start["headers"] = [(k, v) for k, v in start["headers"] if k != b"content-length"]
    start["headers"].append((b"content-length", str(len(raw)).encode()))
    await send(start)
    await send({"type": "http.response.body", "body": raw, "more_body": False})


@contextmanager
def grading_task(sessions: sessionmaker[Session], submission_id: str) -> Iterator[tuple[str | None,
                                                                                         Callable[[str], None]]]:
    """Time one grading task; yield the submission's student id and a callback taking the outcome status."""
    from tutormesh.core.models.assessment import Submission

    started = time.perf_counter()
    outcome = {"status": "error"}
    with sessions() as s:
        row = s.get(Submission, submission_id)
        student_id = row.student_id if row else None
        if row is not None and row.status == "queued":
            submitted = row.submitted_at if row.submitted_at.tzinfo else row.submitted_at.replace(tzinfo=UTC)
            metrics.GRADING_QUEUE_WAIT.observe(max(0.0, (datetime.now(UTC) - submitted).total_seconds()))

    def done(status: str) -> None:
        outcome["status"] = status

    try:
        yield student_id, done
    finally:
        metrics.GRADING_TASKS.labels(outcome["status"]).inc()
        metrics.GRADING_TASK_LATENCY.observe(time.perf_counter() - started)
        metrics.WORKER_LAST_TASK.set_to_current_time()


def serve_worker_metrics(settings: Settings) -> Any:
    """Serve the worker's own metrics (in-process counters only) on `worker_metrics_port`.

    Fleet figures from SQL are exported by the API alone, so Prometheus never sums them twice.
    """
    from prometheus_client import start_http_server

    server = start_http_server(settings.worker_metrics_port, addr=settings.metrics_host,
                               registry=metrics.registry_for_scrape())
    log.info("worker metrics on http://%s:%d/metrics", settings.metrics_host, settings.worker_metrics_port)
    return server

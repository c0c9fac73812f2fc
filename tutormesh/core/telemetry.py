"""OpenTelemetry traces (off by default) and the trace id every log line and error body carries.

Tracing turns on when the standard variables ask for it: `OTEL_TRACES_EXPORTER` (`otlp` or
`console`; `none` keeps it off) or an `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. The exporter, service name (`OTEL_SERVICE_NAME`) and resource
attributes are then read by the SDK from the other `OTEL_*` variables. Spans: FastAPI requests,
SQLAlchemy statements, Celery tasks, and one per LangGraph run and node (through a LangChain
callback registered for every run). LangSmith tracing stays LangChain's own (`LANGSMITH_TRACING`).

Even with tracing off, each request gets a W3C trace id (from its `traceparent` header, or new),
so logs and error bodies can always be matched: `current_trace_id()`.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace

log = logging.getLogger("tutormesh.telemetry")
_request_trace_id: ContextVar[str | None] = ContextVar("tutormesh_trace_id", default=None)
_graph_handler: ContextVar[BaseCallbackHandler | None] = ContextVar("tutormesh_graph_spans", default=None)
_GRAPH_SPANS_ENV = "TUTORMESH_OTEL_GRAPH_SPANS"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_configured: set[str] = set()
_lock = threading.Lock()
tracer = trace.get_tracer("tutormesh")


def tracing_requested(env: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Whether the standard OTEL_* variables ask for traces to be exported."""
    env = os.environ if env is None else env
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure(service: str) -> bool:
    """Set up the tracer provider and instrument SQLAlchemy (and LangGraph runs) once per process.

    Returns whether tracing is on. The caller instruments its own framework (FastAPI, Celery).
    """
    if not tracing_requested():
        return False
    with _lock:
        if _configured:
            return True
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

        os.environ.setdefault("OTEL_SERVICE_NAME", service)
        provider = TracerProvider(resource=Resource.create())
        exporter: SpanExporter
        if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "console":
            exporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _configured.add(service)
        for engine in _engines:  # engines made before tracing was configured
            _trace_statements(engine)
        _register_graph_spans()
    log.info("OpenTelemetry tracing on (service %s)", os.environ["OTEL_SERVICE_NAME"])
    return True


_engines: list[Any] = []


def traced_engine(engine: Any) -> Any:
    """Trace an engine's statements when tracing is (or is later) turned on; return the engine."""
    with _lock:
        _engines.append(engine)
        on = bool(_configured)
    if on:
        _trace_statements(engine)
    return engine


def _trace_statements(engine: Any) -> None:
    # The instrumentor is a singleton that instruments once; our engines are made by tutormesh.core.db
    # (whose create_engine import it cannot patch), so each gets its statement listener directly.
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    usage = get_meter("tutormesh.sql").create_up_down_counter("db.client.connections.usage")
    EngineTracer(trace.get_tracer("opentelemetry.instrumentation.sqlalchemy"), engine, usage)  # type: ignore[no-untyped-call]


def instrument_app(app: Any) -> None:
    """Trace every FastAPI request (when tracing is on)."""
    if configure("tutormesh-api"):
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="/metrics,/v1/health")


def instrument_worker() -> None:
    """Trace Celery tasks in this worker process (when tracing is on)."""
    if configure("tutormesh-worker"):
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument()  # type: ignore[no-untyped-call]


# -- LangGraph runs and nodes as spans ----------------------------------------------------------------
class GraphSpans(BaseCallbackHandler):
    """One span per graph run and per graph node (not per inner runnable), parented like the runs."""

    def __init__(self) -> None:
        """Start with no open spans."""
        self._spans: dict[UUID, Any] = {}
        self._lock = threading.Lock()

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, metadata: dict[str, Any] | None = None,
                       **kwargs: Any) -> None:
        """Open a span for a graph (a root run) or a node."""
        name = str(kwargs.get("name") or "")
        node = (metadata or {}).get("langgraph_node")
        with self._lock:
            parent = self._spans.get(parent_run_id) if parent_run_id else None
        if parent_run_id is not None and node != name:
            if parent is not None:  # an inner runnable: its children hang off the node's span
                with self._lock:
                    self._spans[run_id] = parent
            return
        ctx = trace.set_span_in_context(parent) if parent is not None else otel_context.get_current()
        span = tracer.start_span(f"graph.node {name}" if node == name else f"graph {name}", context=ctx)
        if node == name:
            span.set_attribute("langgraph.node", name)
        with self._lock:
            self._spans[run_id] = span

    def _end(self, run_id: UUID, error: BaseException | None = None) -> None:
        with self._lock:
            span = self._spans.pop(run_id, None)
            owned = span is not None and span not in self._spans.values()
        if span is None or not owned:
            return
        if error is not None:
            span.record_exception(error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
        span.end()

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Close the run's span."""
        self._end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close the run's span with the error."""
        self._end(run_id, error)


def _register_graph_spans() -> None:
    from langchain_core.tracers.context import register_configure_hook

    os.environ[_GRAPH_SPANS_ENV] = "true"
    register_configure_hook(_graph_handler, True, GraphSpans, _GRAPH_SPANS_ENV)


# -- the trace id of the current request -------------------------------------------------------------
def current_trace_id() -> str | None:
    """The recording span's trace id, else the id this request was given; None outside requests."""
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        return format(span.trace_id, "032x")
    return _request_trace_id.get()


def begin_request(traceparent: str | None) -> Any:
    """Give this request its trace id (the caller's, from `traceparent`, or a new one); return a reset token."""
    match = _TRACEPARENT.match(traceparent.strip().lower()) if traceparent else None
    trace_id = match.group(1) if match and match.group(1) != "0" * 32 else secrets.token_hex(16)
    return _request_trace_id.set(trace_id)


def end_request(token: Any) -> None:
    """Forget the request's trace id."""
    _request_trace_id.reset(token)


class TraceIdFilter(logging.Filter):
    """Adds `trace_id` to every record ("-" outside a request), for the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate, never drop."""
        record.trace_id = current_trace_id() or "-"
        return True

"""Prometheus metrics: what the API and the worker count in process, and what SQL knows fleet-wide.

Two kinds, both without per-student labels (10M students would be 10M series):
- Counters and histograms updated in process (requests, turns, LLM calls, tokens, cost, time to
  first token, grading tasks). Each process exports its own; Prometheus sums them.
- Fleet figures read from SQL at scrape time by `SqlCollector` (agents active, lifecycle events,
  negotiation outcomes, escalations open and their age, queue depth, grading outcomes, mastery
  gained per session, students over their cost line). SQL is the source of truth shared by every
  process, so these are exact whichever process is scraped; the query result is kept for
  `metrics_sql_cache_s` so frequent scrapes cost one query set. Per-student cost stays in SQL.

Several processes of one service (uvicorn `--workers N`, Celery prefork) share counters through
prometheus_client's multiprocess mode: set `PROMETHEUS_MULTIPROC_DIR` to an empty directory
before they start (see docs/operations.md).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.settings import Settings

log = logging.getLogger("tutormesh.metrics")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter("tutormesh_http_requests", "HTTP requests answered, by method, route template and status.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("tutormesh_http_request_duration_seconds",
                         "Time to the last byte of an HTTP response (SSE streams: the whole stream).",
                         ["method", "route", "status"], buckets=LATENCY_BUCKETS)
TURNS = Counter("tutormesh_turns", "Student turns served, by tier (rules, cache, llm, lesson) and intent.",
                ["tier", "intent"])
LLM_CALLS = Counter("tutormesh_llm_calls", "LLM calls, by model, purpose and outcome (ok, error).",
                    ["model", "purpose", "outcome"])
LLM_TOKENS = Counter("tutormesh_llm_tokens", "LLM tokens metered, by model, purpose and direction (in, out).",
                     ["model", "purpose", "direction"])
LLM_COST = Counter("tutormesh_llm_cost_usd", "USD metered into the cost ledger, by model and purpose.",
                   ["model", "purpose"])
LLM_TTFT = Histogram("tutormesh_llm_time_to_first_token_seconds",
                     "From the request to the first streamed token (whole reply when not streamed).",
                     ["model", "purpose"], buckets=LATENCY_BUCKETS)
LLM_LATENCY = Histogram("tutormesh_llm_call_duration_seconds", "Whole LLM call time.", ["model", "purpose"],
                        buckets=LATENCY_BUCKETS)
GRADING_TASKS = Counter("tutormesh_grading_tasks", "Grading tasks run by workers, by outcome status.",
                        ["status"])
GRADING_TASK_LATENCY = Histogram("tutormesh_grading_task_duration_seconds", "Time a worker spent on one task.",
                                 buckets=LATENCY_BUCKETS)
GRADING_QUEUE_WAIT = Histogram("tutormesh_grading_queue_wait_seconds",
                               "From a submission being stored to a worker starting its task.",
                               buckets=(*LATENCY_BUCKETS, 60.0, 300.0, 900.0))

WORKER_LAST_TASK = Gauge("tutormesh_worker_last_task_timestamp_seconds",
                         "Unix time this worker last finished a grading task.", multiprocess_mode="max")


def turn_tier(state: dict[str, Any]) -> str:
    """Return how a turn was served: the explainer marks its reply (cache, llm, lesson); else rules."""
    messages = state.get("messages") or []
    for message in reversed(messages):
        if message.type == "human":
            break
        tier = (getattr(message, "response_metadata", None) or {}).get("tier")
        if tier:
            return str(tier)
    return "rules"


def observe_turn(state: dict[str, Any]) -> None:
    """Count one served turn by tier and intent (intents are a closed set of the student agent)."""
    TURNS.labels(turn_tier(state), str(state.get("intent") or "unknown")).inc()


def observe_llm_call(model: str, purpose: str, tokens_in: int, tokens_out: int, cost_usd: float,
                     started: float, first_token: float | None, *, ok: bool = True) -> None:
    """Record one metered LLM call (called by the metering callback in `core.llm`)."""
    ended = time.perf_counter()
    LLM_CALLS.labels(model, purpose, "ok" if ok else "error").inc()
    LLM_TOKENS.labels(model, purpose, "in").inc(tokens_in)
    LLM_TOKENS.labels(model, purpose, "out").inc(tokens_out)
    LLM_COST.labels(model, purpose).inc(cost_usd)
    LLM_LATENCY.labels(model, purpose).observe(ended - started)
    if ok or first_token is not None:  # a stream cut short (e.g. by a guard) still had its first token
        LLM_TTFT.labels(model, purpose).observe((first_token or ended) - started)


# -- fleet figures from SQL ------------------------------------------------------------------------
def fleet_figures(sessions: sessionmaker[Session], settings: Settings, *,
                  now: datetime | None = None) -> dict[str, Any]:
    """Read the fleet-wide figures the dashboards and alerts use (a handful of aggregate queries)."""
    from tutormesh.core.models import (
        Attempt,
        Escalation,
        Grade,
        LearningSession,
        LifecycleEvent,
        Negotiation,
    )
    from tutormesh.core.models.assessment import QuestionResult, Submission
    from tutormesh.core.shards import router_of
    from tutormesh.core.stores.ledger import CostLedger, project_month

    now = now or datetime.now(UTC)
    today = now.date()
    day_ago = now - timedelta(days=1)
    router = router_of(sessions, settings)  # sharded: the directory and every shard, summed
    places = [sessions] if router is None else [sessions, *(router.database(n).sessions for n in router.names())]
    lifecycle: Tally[str] = Tally()
    negotiations: Tally[str] = Tally()
    graded: Tally[tuple[str, str, bool]] = Tally()
    active = open_escalations = queued = 0
    oldest_escalation = oldest_queued = None
    gains: list[Any] = []
    for place in places:
        with place() as s:
            lifecycle.update(dict(s.execute(select(LifecycleEvent.event, func.count())
                                            .group_by(LifecycleEvent.event)).all()))
            active += s.scalar(select(func.count(func.distinct(LearningSession.student_id))).where(
                LearningSession.status == "active")) or 0
            negotiations.update(dict(s.execute(select(Negotiation.status, func.count())
                                               .group_by(Negotiation.status)).all()))
            n, oldest = s.execute(select(func.count(), func.min(Escalation.created_at)).where(
                Escalation.status == "open")).one()
            open_escalations, oldest_escalation = open_escalations + int(n or 0), _earliest(oldest_escalation, oldest)
            n, oldest = s.execute(select(func.count(), func.min(Submission.submitted_at)).where(
                Submission.status == "queued")).one()
            queued, oldest_queued = queued + int(n or 0), _earliest(oldest_queued, oldest)
            for g, c, k in s.execute(select(Grade.grader, Grade.correct, func.count()).group_by(Grade.grader,
                                                                                                 Grade.correct)):
                graded[("practice", str(g), bool(c))] += int(k)
            for g, c, k in s.execute(select(QuestionResult.grader, QuestionResult.correct, func.count()).group_by(
                    QuestionResult.grader, QuestionResult.correct)):
                graded[("quiz", str(g), bool(c))] += int(k)
            recent = select(LearningSession.thread_id).where(LearningSession.last_active_at >= day_ago)
            gains += s.execute(select(func.sum(Attempt.p_known_after - Attempt.p_known_before)).where(
                Attempt.thread_id.in_(recent)).group_by(Attempt.thread_id)).scalars().all()
    month_spend = CostLedger(sessions, settings).month_spend(today)
    over_alert = sum(1 for _sid, month, recent in month_spend
                     if project_month(month, today, recent) > settings.llm_cost_alert_usd)
    over_budget = sum(1 for _sid, month, _recent in month_spend if month >= settings.llm_budget_monthly_usd)
    return {
        "lifecycle": {str(k): int(v) for k, v in lifecycle.items()},
        "agents_active": int(active),
        "negotiations": {str(k): int(v) for k, v in negotiations.items()},
        "escalations_open": int(open_escalations or 0),
        "escalation_oldest_age_s": _age(now, oldest_escalation),
        "queue_depth": int(queued or 0),
        "queue_oldest_age_s": _age(now, oldest_queued),
        "grades": [(kind, g, c, n) for (kind, g, c), n in graded.items()],
        "mastery_gain_sessions": len(gains),
        "mastery_gain_sum": float(sum(float(g or 0.0) for g in gains)),
        "students_spending": len(month_spend),
        "students_over_cost_alert": over_alert,
        "students_over_default_budget": over_budget,
        "month_cost_usd": sum(month for _sid, month, _recent in month_spend),
    }


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(_aware(a), _aware(b))


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)  # SQLite returns naive UTC


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    return max(0.0, (now - _aware(then)).total_seconds())


# A negotiation that reached a commit stays "agreed" whatever its review says later (committed ->
# kept | renegotiated), so the outcome counters only grow; a deadlock ends "escalated".
NEGOTIATION_AGREED = ("committed", "kept", "renegotiated")
NEGOTIATION_FAILED = ("escalated",)


class SqlCollector(Collector):
    """Exports `fleet_figures` at scrape time, cached for `metrics_sql_cache_s` seconds."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session]], settings: Settings) -> None:
        """Read through `sessions()` (resolved lazily: the database may not be migrated yet)."""
        self._sessions, self._settings = sessions, settings
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def figures(self) -> dict[str, Any] | None:
        """Return fresh or cached figures; None (and a `tutormesh_sql_metrics_up 0`) when SQL fails."""
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self._settings.metrics_sql_cache_s:
                return self._cached[1]
            try:
                figures = fleet_figures(self._sessions(), self._settings)
            except Exception as exc:  # a scrape must answer even when the database is down
                log.warning("SQL metrics unavailable: %s", type(exc).__name__)
                return None
            self._cached = (time.monotonic(), figures)
            return figures

    def collect(self) -> Iterable[Metric]:
        """Yield the SQL-backed metric families."""
        f = self.figures()
        up = GaugeMetricFamily("tutormesh_sql_metrics_up", "1 when the SQL-backed metrics could be read.")
        up.add_metric([], 0.0 if f is None else 1.0)
        yield up
        if f is None:
            return
        events = CounterMetricFamily("tutormesh_agent_lifecycle_events", "Agent lifecycle transitions recorded.",
                                     labels=["event"])
        for event in ("spawned", "paused", "resumed"):
            events.add_metric([event], f["lifecycle"].get(event, 0))
        yield events
        yield GaugeMetricFamily("tutormesh_agents_active", "Students with an active (not paused) thread.",
                                value=f["agents_active"])
        statuses = GaugeMetricFamily("tutormesh_negotiations", "Negotiations by current status.", labels=["status"])
        for status, count in sorted(f["negotiations"].items()):
            statuses.add_metric([status], count)
        yield statuses
        agreed = sum(f["negotiations"].get(s, 0) for s in NEGOTIATION_AGREED)
        failed = sum(f["negotiations"].get(s, 0) for s in NEGOTIATION_FAILED)
        outcomes = CounterMetricFamily("tutormesh_negotiation_outcomes",
                                       "Negotiations that ended in an agreement or an escalation.", labels=["outcome"])
        outcomes.add_metric(["agreed"], agreed)
        outcomes.add_metric(["escalated"], failed)
        yield outcomes
        yield GaugeMetricFamily("tutormesh_negotiation_success_ratio",
                                "Share of finished negotiations that reached an agreement (all time; the alert "
                                "uses the outcome counters' increase over a window).",
                                value=agreed / (agreed + failed) if agreed + failed else 1.0)
        yield GaugeMetricFamily("tutormesh_escalations_open", "Escalations waiting for a human.",
                                value=f["escalations_open"])
        yield GaugeMetricFamily("tutormesh_escalation_oldest_open_age_seconds", "Age of the oldest open escalation.",
                                value=f["escalation_oldest_age_s"])
        yield GaugeMetricFamily("tutormesh_grading_queue_depth", "Submissions stored and not yet graded.",
                                value=f["queue_depth"])
        yield GaugeMetricFamily("tutormesh_grading_queue_oldest_age_seconds", "Age of the oldest ungraded submission.",
                                value=f["queue_oldest_age_s"])
        grades = CounterMetricFamily("tutormesh_grades", "Graded answers, by source, grader and correctness.",
                                     labels=["source", "grader", "correct"])
        for source, grader, correct, count in f["grades"]:
            grades.add_metric([source, grader, str(correct).lower()], count)
        yield grades
        yield GaugeMetricFamily("tutormesh_mastery_gain_sessions", "Sessions active in the last 24 h with attempts.",
                                value=f["mastery_gain_sessions"])
        yield GaugeMetricFamily("tutormesh_mastery_gain_per_session",
                                "Mean knowledge-tracing gain (sum of p_known deltas) per session, last 24 h.",
                                value=f["mastery_gain_sum"] / f["mastery_gain_sessions"]
                                if f["mastery_gain_sessions"] else 0.0)
        yield GaugeMetricFamily("tutormesh_students_spending", "Students with LLM spend this month.",
                                value=f["students_spending"])
        yield GaugeMetricFamily("tutormesh_students_over_cost_alert",
                                "Students whose projected monthly LLM cost is over llm_cost_alert_usd.",
                                value=f["students_over_cost_alert"])
        yield GaugeMetricFamily("tutormesh_students_over_default_budget",
                                "Students whose spend this month reached the default monthly budget.",
                                value=f["students_over_default_budget"])
        yield GaugeMetricFamily("tutormesh_month_cost_usd", "LLM spend of all students this month (ledger).",
                                value=f["month_cost_usd"])
        yield GaugeMetricFamily("tutormesh_cost_alert_threshold_usd", "The per-student monthly cost alert line.",
                                value=self._settings.llm_cost_alert_usd)


def registry_for_scrape(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """Return the registry one scrape reads: this process's, or every process's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    for collector in extra:
        registry.register(collector)
    return registry


class _ProcessRegistry(Collector):
    """The default registry's metrics (ours plus process/platform), re-exported into a scrape registry."""

    def collect(self) -> Iterable[Metric]:
        """Yield everything the process-wide registry holds."""
        yield from REGISTRY.collect()


def render(extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """Return the Prometheus text exposition of this process (plus `extra` collectors) and its type."""
    return generate_latest(registry_for_scrape(extra)), CONTENT_TYPE_LATEST

"""Operator endpoints: Prometheus `/metrics` (metrics token) and the LLM cost alerts (admins)."""

from __future__ import annotations

import hmac
import re
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, StringConstraints
from pydantic.json_schema import SkipJsonSchema
from starlette.responses import Response

from tutormesh.core import metrics
from tutormesh.core.errors import NotFound, Unauthorized
from tutormesh.core.stores.ledger import get_ledger
from tutormesh.server.deps import Admin, ServicesDep

router = APIRouter(tags=["operations"])
# Prometheus scrapes an unversioned `/metrics`: it is the one route outside `/v1`.
metrics_router = APIRouter(tags=["operations"])


def _collector(services: ServicesDep) -> metrics.SqlCollector:
    collector: metrics.SqlCollector | None = services.extras.get("sql_metrics")
    if collector is None:
        collector = services.extras["sql_metrics"] = metrics.SqlCollector(lambda: services.learner.sessions,
                                                                          services.settings)
    return collector


@metrics_router.get("/metrics", include_in_schema=False)
async def scrape(services: ServicesDep,
                 authorization: Annotated[str | None, Header()] = None) -> Response:
    """Prometheus text format; requires `Authorization: Bearer <TUTORMESH_METRICS_TOKEN>`."""
    token = services.settings.metrics_token
    if token is None or not token.get_secret_value():
        raise NotFound("metrics are disabled: set TUTORMESH_METRICS_TOKEN")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise Unauthorized("send Authorization: Bearer <metrics token>")
    collector = _collector(services)
    body, content_type = await anyio.to_thread.run_sync(metrics.render, [collector])
    return Response(body, media_type=content_type)


class CostAlertOut(BaseModel):
    """A student whose projected monthly LLM cost passed the alert line."""

    student_id: str
    month: str
    projected_usd: float
    threshold_usd: float
    created_at: str


class CostAlerts(BaseModel):
    """The alerts, and whether the default budgets let a projection reach the line at all."""

    threshold_usd: float
    reachable_with_default_budgets: bool
    alerts: list[CostAlertOut]


Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}$")]


@router.get("/admin/cost-alerts", responses={404: {"description": "a student id that cannot exist"}})
async def cost_alerts(_admin: Admin, services: ServicesDep,
                      month: Annotated[Month | SkipJsonSchema[None], Query(description="YYYY-MM")] = None,
                      student_id: Annotated[str | SkipJsonSchema[None], Query(max_length=64)] = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> CostAlerts:
    """List cost alerts, newest first (filter by month `YYYY-MM` or student id)."""
    if student_id is not None and not re.fullmatch(r"[\w.@-]+", student_id):
        raise NotFound("no such student")
    ledger = get_ledger(services.settings)
    rows = await anyio.to_thread.run_sync(lambda: ledger.alerts(student_id, month=month, limit=limit))
    return CostAlerts(threshold_usd=services.settings.llm_cost_alert_usd,
                      reachable_with_default_budgets=ledger.alert_reachable(),
                      alerts=[CostAlertOut(**r) for r in rows])

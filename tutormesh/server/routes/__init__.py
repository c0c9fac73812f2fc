"""HTTP routers, one per resource, all under the one `v1` router (only Prometheus' `/metrics` is outside)."""

from fastapi import APIRouter

from tutormesh.server.routes import (
    admin,
    assignments,
    audit,
    auth,
    cohorts,
    dashboards,
    escalations,
    health,
    operations,
    privacy,
    quizzes,
    reviews,
    thread_events,
    threads,
    users,
)

v1 = APIRouter(prefix="/v1")
for _module in (health, auth, threads, users, cohorts, quizzes, escalations, reviews, assignments, dashboards, admin,
                audit, thread_events, operations, privacy):
    v1.include_router(_module.router)
metrics_router = operations.metrics_router

__all__ = ["metrics_router", "v1"]

"""HTTP routers, one per resource, all under the one `v1` router (only Prometheus' `/metrics` is outside)."""

from fastapi import APIRouter

from tutormesh.server.routes import (
    admin,
    assignments,
    audit,
    auth,
    cohorts,
    content,
    dashboards,
    escalations,
    experiments,
    health,
    operations,
    privacy,
    profile,
    quizzes,
    reviews,
    thread_events,
    threads,
    users,
)

SIGNED_IN = {401: {"description": "not signed in, or a bad, expired or revoked token"}}
ROLE_CHECKED = {**SIGNED_IN, 403: {"description": "your role may not do this"}}

v1 = APIRouter(prefix="/v1")
for _module in (health, auth, threads, users, cohorts, quizzes):  # each documents its own statuses
    v1.include_router(_module.router)
for _module in (escalations, reviews, assignments, dashboards, admin, audit, content, experiments):
    v1.include_router(_module.router, responses=ROLE_CHECKED)
v1.include_router(profile.router, responses={**SIGNED_IN, 422: {"description": "malformed input, with the reason"}})
v1.include_router(thread_events.router, responses={**SIGNED_IN, 404: {"description": "no such thread, or not yours"}})
for _module in (operations, privacy):
    v1.include_router(_module.router, responses=ROLE_CHECKED)
metrics_router = operations.metrics_router

__all__ = ["metrics_router", "v1"]

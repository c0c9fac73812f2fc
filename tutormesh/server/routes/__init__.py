"""HTTP routers, one per resource; `console_router` gathers the console's routers under `/v1`."""

from fastapi import APIRouter

from tutormesh.server.routes import admin, assignments, audit, dashboards, escalations, reviews, thread_events

console_router = APIRouter(prefix="/v1")
for _module in (escalations, reviews, assignments, dashboards, admin, audit, thread_events):
    console_router.include_router(_module.router)

__all__ = ["console_router"]

"""HTTP routers, one per resource; `console_router` gathers the console's routers under `/v1`."""

from fastapi import APIRouter

from tutormesh.server.routes import admin, assignments, audit, dashboards, escalations, reviews, thread_events

# Every console route is for some roles only: a signed-in user of another role gets 403.
console_router = APIRouter(prefix="/v1", responses={403: {"description": "not for your role"}})
for _module in (escalations, reviews, assignments, dashboards, admin, audit, thread_events):
    console_router.include_router(_module.router)

__all__ = ["console_router"]

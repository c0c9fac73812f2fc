"""Liveness and readiness: `GET /v1/health` (never rate limited, never authenticated)."""

from __future__ import annotations

from importlib.metadata import version

import anyio.to_thread
from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.responses import JSONResponse

from tutormesh.server.deps import ServicesDep

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    """Whether the API is ready, and which part is not."""

    status: str = Field(description="ok | unavailable")
    version: str
    profile: str = Field(description="production | embedded")
    database: str = Field(description="ok | unreachable")


_limiter: list[anyio.CapacityLimiter] = []  # its own threads: a health check never queues behind turns


@router.get("/health", response_model=HealthOut, responses={
    503: {"model": HealthOut, "description": "not ready: the database or the tutor is down"}})
async def health(services: ServicesDep) -> JSONResponse:
    """Report whether the API, its database and the tutor are up (503 when not ready)."""

    def ping() -> bool:
        try:
            with services.learner.sessions() as s:
                s.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - a health check reports, it does not raise
            return False

    if not _limiter:
        _limiter.append(anyio.CapacityLimiter(2))
    database = await anyio.to_thread.run_sync(ping, limiter=_limiter[0])
    ready = database and services.tutor is not None
    body = HealthOut(status="ok" if ready else "unavailable", version=version("tutormesh"),
                     profile="production" if services.settings.is_production else "embedded",
                     database="ok" if database else "unreachable")
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

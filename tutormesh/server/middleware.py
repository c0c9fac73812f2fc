"""ASGI middleware: request body limit (413), per-IP rate limit (429) and a PII-free access log.

Pure ASGI rather than BaseHTTPMiddleware so SSE responses stream through untouched.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tutormesh.core.errors import PayloadTooLarge, TutorMeshError
from tutormesh.server.errors import error_response

log = logging.getLogger("tutormesh.server.access")
EXEMPT = ("/v1/health",)


class BodyLimit:
    """Refuse bodies over `max_bytes`: by Content-Length up front, by counting when chunked."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        """Wrap `app`."""
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what actually arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = PayloadTooLarge(f"request body over {self.max_bytes} bytes")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await error_response(too_large)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                # An HTTPException passes through FastAPI's body parsing untouched (others become 400).
                raise HTTPException(413, too_large.message)
            return message

        await self.app(scope, counted, send)


class IpRateLimit:
    """Count every request against the client IP's limit (health checks excepted)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`; the limiter is read from `app.state.services` at request time."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 429 before routing when the IP is over its limit."""
        if scope["type"] == "http" and scope["path"] not in EXEMPT:
            services = scope["app"].state.services
            client = scope.get("client")
            try:
                await services.limits.hit("ip", client[0] if client else "unknown")
            except TutorMeshError as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class AccessLog:
    """Log method, route template, status, duration, user id and request id; never bodies or names."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and log one line when the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, request_id = time.perf_counter(), uuid.uuid4().hex[:12]
        status: dict[str, Any] = {}

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            route = scope.get("route")
            user_id = scope.get("state", {}).get("user_id", "-")
            log.info("%s %s status=%s ms=%.1f user=%s rid=%s", scope["method"],
                     getattr(route, "path", "-"), status.get("code", 500),
                     (time.perf_counter() - started) * 1000, user_id, request_id)

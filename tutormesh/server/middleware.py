"""ASGI middleware: body limit (413), clean text (422), per-IP rate limit (429), a PII-free access log.

Pure ASGI rather than BaseHTTPMiddleware so SSE responses stream through untouched.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tutormesh.core.errors import Invalid, PayloadTooLarge, TutorMeshError
from tutormesh.server.errors import error_response
from tutormesh.server.observability import route_template

log = logging.getLogger("tutormesh.server.access")
EXEMPT = ("/v1/health",)


class BodyLimit:
    """Refuse bodies over `max_bytes`: by Content-Length up front, by counting when chunked.

    `larger` names the few paths that take more (deck uploads), with their own limits.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        """Wrap `app`."""
        self.app, self.max_bytes, self.larger = app, max_bytes, dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what actually arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        limit = self.larger.get(scope["path"], self.max_bytes)
        too_large = PayloadTooLarge(f"request body over {limit} bytes")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await error_response(too_large)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                # An HTTPException passes through FastAPI's body parsing untouched (others become 400).
                raise HTTPException(413, too_large.message)
            return message

        await self.app(scope, counted, send)


def text_problem(where: str, text: str) -> str | None:
    """Say what is wrong with a string no store can hold: a NUL character or a lone surrogate."""
    if "\x00" in text:
        return f"{where}: must not contain NUL characters"
    for n, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            return f"{where}: lone surrogate (invalid Unicode) at character {n}"
    return None


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Yield (location, text) for every string in parsed JSON, keys included."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            yield where or "body", key
            yield from _strings(item, inner)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, f"{where}.{n}" if where else str(n))


def _json_problem(body: bytes) -> str | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:  # orjson refuses lone surrogate escapes that the stdlib accepts: find where they are
            parsed = json.loads(body)
        except ValueError:
            return None  # malformed JSON: FastAPI reports it with the offset
    return next((p for where, text in _strings(parsed, "") if (p := text_problem(where or "body", text))), None)


async def _form_problem(scope: Scope, body: bytes) -> str | None:
    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        async with Request(scope, replay).form() as form:
            for key, value in form.multi_items():
                problem = text_problem(key, key) or (
                    None if isinstance(value, UploadFile) else text_problem(key, value))
                if problem:
                    return problem
    except Exception:  # noqa: BLE001 - a malformed form is the route's to report
        return None
    return None


class CleanText:
    """One check at the boundary for every route: NUL characters and lone surrogates are 422.

    Neither fits a Postgres text column or UTF-8 (both used to surface as 500s from the database),
    and no legitimate input holds them. Checked here, once, rather than in each model: the path,
    every query parameter, and JSON or form bodies (file parts of uploads excepted). See docs/api.md.
    """

    BODY_TYPES = (b"application/json", b"application/x-www-form-urlencoded", b"multipart/form-data")

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse bad text before routing; replay the body that was read to check it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = text_problem("path", scope["path"]) or next(
            (p for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
             for text in (key, value) if (p := text_problem(f"query.{key}", text))), None)
        content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
        if problem is None and content_type in self.BODY_TYPES:
            try:
                body, messages = await _read_body(receive)
            except HTTPException as exc:  # the body limit, counted while reading
                await error_response(PayloadTooLarge(str(exc.detail)))(scope, receive, send)
                return
            if content_type == b"application/json":
                problem = _json_problem(body)
            else:
                problem = await _form_problem(scope, body)
            receive = _replay(messages, receive)
        if problem is not None:
            await error_response(Invalid(problem))(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request"), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


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
            user_id = scope.get("state", {}).get("user_id", "-")
            log.info("%s %s status=%s ms=%.1f user=%s rid=%s", scope["method"],
                     route_template(scope) or "-", status.get("code", 500),
                     (time.perf_counter() - started) * 1000, user_id, request_id)

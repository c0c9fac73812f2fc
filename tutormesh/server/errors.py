"""One place where failures become HTTP answers: `{"error": {"code", "message"}}`, never a traceback."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from tutormesh.core.errors import Locked, RateLimited, TutorMeshError
from tutormesh.core.shards import ShardBusy

log = logging.getLogger("tutormesh.server.errors")

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid",
         429: "rate_limited", 503: "busy"}


def error_response(exc: TutorMeshError) -> JSONResponse:
    """Render a domain error (with Retry-After for rate limits and shard moves, WWW-Authenticate for 401)."""
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | Locked | ShardBusy):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status,
                        headers=headers)


async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    """Map a TutorMeshError to its status and code."""
    assert isinstance(exc, TutorMeshError)
    if isinstance(exc, RateLimited | ShardBusy):  # answered with Retry-After: expected, not a fault
        log.warning("shed %s: %s", exc.code, exc.message)
    elif exc.status >= 500:
        log.error("domain error %s: %s", exc.code, exc.message)
    return error_response(exc)


async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Routing and framework errors (404, 405, 413 while reading the body...) in the same shape."""
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    return JSONResponse({"error": {"code": CODES.get(exc.status_code, "error"), "message": message}},
                        status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _reason(error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":  # loc is ("body", <character offset>)
        return f"body: {error.get('msg', 'invalid JSON')} at character {loc[-1] if loc else '?'}"
    location = ".".join(str(part) for part in loc if part != "body") or "body"
    message = error.get("msg", "invalid")
    if error.get("type") == "string_pattern_mismatch":
        from tutormesh.server.fields import PATTERN_MESSAGES  # the fields import the stores; errors stay light

        message = PATTERN_MESSAGES.get(str((error.get("ctx") or {}).get("pattern")), message)
    return f"{location}: {message}"


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Malformed input: 422 with every reason, without echoing the input back."""
    assert isinstance(exc, RequestValidationError)
    reasons = "; ".join(_reason(e) for e in exc.errors()[:5]) or "malformed request"
    return JSONResponse({"error": {"code": "invalid", "message": reasons}}, status_code=422)


async def on_overload(_request: Request, exc: Exception) -> JSONResponse:
    """The database is saturated (pool checkout or lock wait timed out): ask the client to retry."""
    log.warning("overloaded: %s", type(exc).__name__)
    return JSONResponse({"error": {"code": "busy", "message": "server busy, retry shortly"}}, status_code=503,
                        headers={"Retry-After": "1"})


async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """SQLite's lock wait ran out under load: that is overload too; a lost connection is a 503; else a 500.

    A connection the server closed (failover, restart, a killed backend) is invalidated and replaced by
    the pool, so the same request succeeds when retried: say so instead of a 500.
    """
    if "database is locked" in str(exc):
        return await on_overload(request, exc)
    if getattr(exc, "connection_invalidated", False):
        log.warning("database connection lost: %s", type(exc).__name__)
        return JSONResponse({"error": {"code": "unavailable", "message": "the database connection was lost; "
                                       "retry shortly"}}, status_code=503, headers={"Retry-After": "1"})
    return await on_unexpected_error(request, exc)


async def on_unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """Anything unforeseen: log it with its traceback on the server, answer a plain 500.

    A database error is logged by its first line and stack only: Postgres repeats the failing
    row's values in its DETAIL line (bound parameters are hidden already, see core/db.py).
    """
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        log.error("unhandled %s: %s\n%s", type(exc.orig).__name__, first,
                  "".join(traceback.format_tb(exc.__traceback__)))
    else:
        log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return JSONResponse({"error": {"code": "internal", "message": "internal error"}}, status_code=500)


def install(app: FastAPI) -> None:
    """Register every handler once."""
    app.add_exception_handler(TutorMeshError, on_domain_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, on_overload)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected_error)

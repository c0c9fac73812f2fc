"""Database saturation answers 503 with Retry-After, never a 500 or a traceback."""

from __future__ import annotations

import asyncio
import json

import sqlalchemy.exc

from tutormesh.server.errors import on_database_error, on_overload


def test_pool_timeout_is_a_503_with_retry_after() -> None:
    response = asyncio.run(on_overload(None, sqlalchemy.exc.TimeoutError("QueuePool limit reached")))  # type: ignore[arg-type]
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert json.loads(response.body)["error"]["code"] == "busy"


def test_sqlite_lock_timeout_is_a_503_and_other_database_errors_a_500() -> None:
    locked = sqlalchemy.exc.OperationalError("INSERT", {}, Exception("database is locked"))
    other = sqlalchemy.exc.OperationalError("SELECT", {}, Exception("no such table: x"))
    assert asyncio.run(on_database_error(None, locked)).status_code == 503  # type: ignore[arg-type]
    assert asyncio.run(on_database_error(None, other)).status_code == 500  # type: ignore[arg-type]

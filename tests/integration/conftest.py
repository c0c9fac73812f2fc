"""Fixtures for the API tests: a running app (TestClient), users, logins, and the real Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from tests.conftest import service_missing
from tutormesh.core.settings import Settings, get_settings
from tutormesh.server import security
from tutormesh.server.app import create_app

REDIS_URL = os.environ.get("TUTORMESH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with tiny costs: the same code path, a millisecond instead of 170 ms per hash."""
    monkeypatch.setattr(security, "_hasher", PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024,
                                                                        parallelism=1),)))
    security._dummy_hash.cache_clear()


@pytest.fixture
def redis_url() -> str:
    """The real Redis server (fail under CI, skip elsewhere when it is missing)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing("Redis", exc)
    return REDIS_URL


def configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Set TUTORMESH_* variables and return fresh settings."""
    for key, value in env.items():
        monkeypatch.setenv(f"TUTORMESH_{key.upper()}", value)
    get_settings.cache_clear()
    return get_settings()


class Api:
    """A started app plus helpers to make users and sign in."""

    def __init__(self, client: TestClient) -> None:
        """Wrap a TestClient whose lifespan has started."""
        self.client = client
        self.services = client.app.state.services  # type: ignore[attr-defined]

    def user(self, role: str = "student", cohort: str | None = "c1") -> dict[str, Any]:
        """Create a user with a unique name and the test password."""
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        user: dict[str, Any] = self.services.accounts.create_user(name, security.hash_password(PASSWORD), role,
                                                                  cohort)
        return user

    def login(self, user: dict[str, Any]) -> dict[str, str]:
        """Sign in and return the Authorization header."""
        response = self.client.post("/v1/auth/token", data={"username": user["username"], "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def student(self, cohort: str | None = "c1") -> tuple[dict[str, Any], dict[str, str], str]:
        """A signed-in student with a new thread: (user, headers, thread_id)."""
        user = self.user("student", cohort)
        headers = self.login(user)
        response = self.client.post("/v1/threads", headers=headers)
        assert response.status_code == 201, response.text
        return user, headers, response.json()["thread_id"]

    def say(self, headers: dict[str, str], thread_id: str, text: str) -> dict[str, Any]:
        """Post a message (JSON form) and return the turn result."""
        response = self.client.post(f"/v1/threads/{thread_id}/messages", headers=headers, json={"content": text})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def start_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Api]]:
    """Start apps on the current settings (or with TUTORMESH_* overrides); stop them after the test."""
    clients: list[TestClient] = []

    def start(settings: Settings | None = None, **env: str) -> Api:
        settings = configure(monkeypatch, **env) if env else settings or get_settings()
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Api(client)

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def api(start_api: Callable[..., Api]) -> Api:
    """One app on the embedded profile (SQLite in the test's data dir)."""
    return start_api()

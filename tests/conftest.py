"""Shared fixtures: an isolated data dir per test, and a real Postgres database per session.

Production-profile tests talk to the real PostgreSQL at TUTORMESH_TEST_POSTGRES_URL. Outside CI a
missing server skips them; under CI (CI=true) it fails them, so a broken setup never looks green.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tutormesh.core.db import engine_for
from tutormesh.core.settings import Settings, get_settings

POSTGRES_URL = os.environ.get("TUTORMESH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def service_missing(what: str, error: Exception) -> None:
    """Fail under CI, skip on a developer machine."""
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for key in ("TUTORMESH_DATABASE_URL", "TUTORMESH_CHECKPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(f"TUTORMESH_{key.upper()}", value)
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Every test gets its own data dir (SQLite database and checkpoints) by default."""
    monkeypatch.chdir(tmp_path)
    yield _use(monkeypatch, data_dir=str(tmp_path / "data"))
    get_settings.cache_clear()


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """Create a new database on the real Postgres server; drop it afterwards."""
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"tutormesh_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", exc)
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        engine_for.cache_clear()  # pooled connections would block the drop
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One scratch database on the real Postgres server for the whole session."""
    with scratch_postgres() as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A scratch database for one test (schema changes, downgrades)."""
    with scratch_postgres() as url:
        yield url


BOTH_PROFILES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _settings_for(request: pytest.FixtureRequest, database_fixture: str) -> Settings:
    if request.param == "sqlite":
        return get_settings()
    url = request.getfixturevalue(database_fixture)
    tmp_path: Path = request.getfixturevalue("tmp_path")
    return _use(request.getfixturevalue("monkeypatch"), data_dir=str(tmp_path / "data"), database_url=url)


@pytest.fixture(params=BOTH_PROFILES)
def profile(request: pytest.FixtureRequest) -> Settings:
    """Run a test on the embedded profile (SQLite) and on Postgres for SQL and checkpoints."""
    return _settings_for(request, "postgres_url")


@pytest.fixture(params=BOTH_PROFILES)
def fresh_profile(request: pytest.FixtureRequest) -> Settings:
    """Like `profile`, with a Postgres database of its own (for tests that drop the schema)."""
    return _settings_for(request, "fresh_postgres_url")

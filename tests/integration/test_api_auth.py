"""Sign-in, tokens and the signing secret: every failure is a 401 in the one error shape."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from tests.integration.conftest import PASSWORD, Api
from tutormesh.core.errors import Misconfigured
from tutormesh.core.settings import Settings
from tutormesh.server.security import SECRET_FILE, issue_token, signing_secret

pytestmark = pytest.mark.integration


def error_of(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "trace_id"}, body
    error = dict(body["error"])
    assert len(error.pop("trace_id")) == 32  # matched to the server's log lines (docs/operations.md)
    return error


def test_login_returns_a_bearer_token_and_me_answers(api: Api) -> None:
    user = api.user("teacher", "7b")
    response = api.client.post("/v1/auth/token", data={"username": user["username"], "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 3600 and token["role"] == "teacher"
    me = api.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert me == {"id": user["id"], "username": user["username"], "role": "teacher", "cohort": "7b",
                  "student_id": None}


@pytest.mark.parametrize("who", ["wrong-password", "unknown-user", "empty"])
def test_bad_credentials_get_the_same_401(api: Api, who: str) -> None:
    user = api.user()
    form = {"wrong-password": {"username": user["username"], "password": "nope-nope"},
            "unknown-user": {"username": "nobody-here", "password": PASSWORD},
            "empty": {"username": "", "password": ""}}[who]
    response = api.client.post("/v1/auth/token", data=form)
    if who == "empty":
        assert response.status_code == 422 and error_of(response)["code"] == "invalid"
        return
    assert response.status_code == 401
    assert error_of(response) == {"code": "unauthorized", "message": "incorrect username or password"}


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"])
def test_missing_or_malformed_tokens_are_401(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = api.client.get("/v1/threads", headers=headers)
    assert response.status_code == 401 and error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_expired_token_is_401_token_expired(api: Api) -> None:
    user = api.user()
    token, _ = issue_token(user, api.services.settings, now=datetime.now(UTC) - timedelta(hours=2))
    response = api.client.get("/v1/threads", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert error_of(response) == {"code": "token_expired", "message": "token expired: log in again"}


def test_token_signed_with_another_secret_is_rejected(api: Api, isolated_settings: Settings) -> None:
    forged = isolated_settings.model_copy(update={"jwt_secret": SecretStr("x" * 40)})
    token, _ = issue_token(api.user(), forged)
    assert api.client.get("/v1/threads", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_of_a_deleted_user_stops_working(api: Api) -> None:
    user = api.user()
    headers = api.login(user)
    api.services.accounts.delete_user(user["id"])
    assert api.client.get("/v1/threads", headers=headers).status_code == 401


def test_a_token_checked_before_still_expires_on_time(api: Api) -> None:
    user = api.user()
    ttl = timedelta(minutes=api.services.settings.jwt_ttl_minutes)
    token, _ = issue_token(user, api.services.settings, now=datetime.now(UTC) - ttl + timedelta(seconds=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/v1/threads", headers=headers).status_code == 200  # verified and remembered
    time.sleep(1.1)
    response = api.client.get("/v1/threads", headers=headers)
    assert response.status_code == 401 and error_of(response)["code"] == "token_expired"


def test_deleting_a_user_through_the_api_revokes_their_token_at_once(api: Api) -> None:
    admin, user = api.login(api.user("admin", None)), api.user()
    headers = api.login(user)
    assert api.client.get("/v1/threads", headers=headers).status_code == 200  # the user is now remembered
    assert api.client.delete(f"/v1/users/{user['id']}", headers=admin).status_code == 204
    assert api.client.get("/v1/threads", headers=headers).status_code == 401


def test_changes_from_another_process_apply_within_auth_cache_seconds(start_api: Callable[..., Api]) -> None:
    api = start_api(auth_cache_seconds="0.3")
    user = api.user()
    headers = api.login(user)
    assert api.client.get("/v1/threads", headers=headers).status_code == 200
    api.services.accounts.delete_user(user["id"])  # as another worker would: this process is not told
    assert api.client.get("/v1/threads", headers=headers).status_code == 200  # trusted for a moment
    time.sleep(0.35)
    assert api.client.get("/v1/threads", headers=headers).status_code == 401


def test_embedded_secret_is_generated_once_with_mode_0600(isolated_settings: Settings) -> None:
    first = signing_secret(isolated_settings)
    path = isolated_settings.data_dir.resolve() / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and signing_secret(isolated_settings) == first


def test_production_requires_a_secret(isolated_settings: Settings, start_api: Callable[..., Api]) -> None:
    production = isolated_settings.model_copy(update={"database_url": "postgresql+psycopg://u@127.0.0.1/x"})
    with pytest.raises(Misconfigured, match="TUTORMESH_JWT_SECRET is required"):
        signing_secret(production)
    with pytest.raises(Misconfigured, match="at least 32 bytes"):
        signing_secret(production.model_copy(update={"jwt_secret": SecretStr("short")}))


def test_login_attempts_are_rate_limited_per_ip(start_api: Callable[..., Api]) -> None:
    api = start_api(rate_limit_login="3/minute")
    for _ in range(3):
        assert api.client.post("/v1/auth/token", data={"username": "x", "password": "y"}).status_code == 401
    response = api.client.post("/v1/auth/token", data={"username": "x", "password": "y"})
    assert response.status_code == 429 and error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60

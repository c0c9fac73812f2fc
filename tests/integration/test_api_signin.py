"""Sign-in throttling: failed sign-ins limited per IP and per username, proxies trusted only when configured,
and bounded (per process) when the shared limit store is down."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import PASSWORD, Api
from tests.integration.live import free_port, run_cli
from tutormesh.core.settings import Settings
from tutormesh.server.supervisor import api_child

pytestmark = pytest.mark.integration


def _fail(api: Api, username: str, headers: dict[str, str] | None = None) -> int:
    return api.client.post("/v1/auth/token", data={"username": username, "password": "wrong-password"},
                           headers=headers or {}).status_code


def test_a_class_of_thirty_behind_one_address_all_sign_in(start_api: Callable[..., Api]) -> None:
    api = start_api(rate_limit_login="5/minute")
    students = [api.user("student", "9a") for _ in range(30)]
    assert all(api.client.post("/v1/auth/token", data={"username": s["username"], "password": PASSWORD})
               .status_code == 200 for s in students)


def test_failed_sign_ins_are_limited_per_ip(start_api: Callable[..., Api]) -> None:
    api = start_api(rate_limit_login="3/minute")
    assert [_fail(api, f"guess-{n}") for n in range(4)] == [401, 401, 401, 429]
    user = api.user()  # the IP is throttled: even a right password waits
    response = api.client.post("/v1/auth/token", data={"username": user["username"], "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


def test_an_account_locks_after_failures_and_an_admin_unlocks_it(start_api: Callable[..., Api]) -> None:
    api = start_api(login_max_failures="3", rate_limit_login="1000/minute")
    admin, user = api.login(api.user("admin", None)), api.user()
    assert [_fail(api, user["username"]) for _ in range(3)] == [401, 401, 401]
    locked = api.client.post("/v1/auth/token", data={"username": user["username"], "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "locked"
    assert 1 <= int(locked.headers["Retry-After"]) <= 900
    assert [_fail(api, "nobody-at-all") for _ in range(4)][-1] == 429  # unknown names lock the same way
    assert api.client.post(f"/v1/users/{user['id']}/unlock", headers=admin).status_code == 200
    assert api.login(user)


def test_the_unlock_command_lifts_a_lockout(start_api: Callable[..., Api], isolated_settings: Settings) -> None:
    api = start_api(login_max_failures="2", rate_limit_login="1000/minute")
    user = api.user()
    assert [_fail(api, user["username"]) for _ in range(3)] == [401, 401, 429]
    done = run_cli(isolated_settings.data_dir, "user", "unlock", user["username"])
    assert done.returncode == 0 and f"unlocked {user['username']}" in done.stdout, done.stderr
    assert api.login(user)


def test_the_limit_store_down_keeps_failed_sign_ins_bounded(start_api: Callable[..., Api]) -> None:
    api = start_api(rate_limit_storage_url="redis://127.0.0.1:1/0", rate_limit_login="3/minute")  # refuses
    assert [_fail(api, f"guess-{n}") for n in range(4)] == [401, 401, 401, 429]  # in this process's memory
    other = start_api(rate_limit_storage_url="redis://127.0.0.1:1/0")
    assert other.login(other.user())  # requests still served while the store is down


@contextmanager
def api_process(tmp_path: Path, **env: str) -> Iterator[str]:
    """Run the API child exactly as `tutormesh serve` would (its uvicorn flags included)."""
    port = free_port()
    env = {"data_dir": str(tmp_path / "data"), "api_port": str(port), "llm_enabled": "false",
           "rate_limit_login": "3/minute", "jwt_secret": "s" * 40, **env}
    argv = api_child(Settings(**env)).argv  # type: ignore[arg-type]
    full = {**os.environ, **{f"TUTORMESH_{k.upper()}": v for k, v in env.items()}}
    proc = subprocess.Popen(argv, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _rotating(url: str, attempts: int) -> list[int]:
    return [httpx.post(f"{url}/v1/auth/token", data={"username": f"guess-{n}", "password": "wrong-password"},
                       headers={"X-Forwarded-For": f"203.0.113.{n}"}, timeout=10).status_code
            for n in range(attempts)]


def test_a_rotated_x_forwarded_for_does_not_reset_the_limit(tmp_path: Path) -> None:
    with api_process(tmp_path) as url:
        assert _rotating(url, 5)[-2:] == [429, 429]


def test_x_forwarded_for_is_believed_from_a_configured_proxy(tmp_path: Path) -> None:
    with api_process(tmp_path, trusted_proxies="127.0.0.1") as url:
        assert _rotating(url, 5) == [401] * 5  # five different clients behind our proxy

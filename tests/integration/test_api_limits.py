"""Limits and bad input: 413, 422 with a reason, 429 with Retry-After; nothing stored is lost."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.integration.conftest import Api
from tutormesh.core.errors import RateLimited
from tutormesh.core.settings import Settings
from tutormesh.server.ratelimit import RateLimiter

pytestmark = pytest.mark.integration


def test_bad_input_gets_a_reason_and_never_loses_history(api: Api) -> None:
    _, headers, thread = api.student()
    api.say(headers, thread, "practice linear equations")
    before = api.client.get(f"/v1/threads/{thread}", headers=headers).json()["messages"]
    url = f"/v1/threads/{thread}/messages"
    cases = [
        ({"json": {"content": "x" * 2001}}, "content: at most 2000 characters (got 2001)"),
        ({"json": {"content": "   "}}, "content: must not be blank"),
        ({"json": {"content": "a\x00b"}}, "content: must not contain NUL characters"),
        ({"json": {}}, "content: Field required"),
        ({"json": {"content": 42}}, "content: Input should be a valid string"),
        ({"json": {"content": "hi", "role": "system"}}, "role: Extra inputs are not permitted"),
        ({"json": ["content"]}, "Input should be a valid dictionary"),
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "JSON decode error"),
    ]
    for kwargs, reason in cases:
        extra = kwargs.pop("headers", {})
        response = api.client.post(url, headers={**headers, **extra}, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 422, (kwargs, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid" and reason in error["message"], error
        assert "Traceback" not in response.text
    bad_id = api.client.get("/v1/threads/not..an%20id", headers=headers)
    assert bad_id.status_code == 422 and "thread_id" in bad_id.json()["error"]["message"]
    assert api.client.get(f"/v1/threads/{thread}", headers=headers).json()["messages"] == before


def test_body_over_the_limit_is_413_declared_or_streamed(start_api: Callable[..., Api]) -> None:
    api = start_api(max_body_bytes="1024")
    _, headers, thread = api.student()
    url = f"/v1/threads/{thread}/messages"
    declared = api.client.post(url, headers=headers, json={"content": "x" * 2000})
    assert declared.status_code == 413
    assert declared.json()["error"] | {"trace_id": ""} == {"code": "payload_too_large",
                                                            "message": "request body over 1024 bytes", "trace_id": ""}

    def chunks() -> Iterator[bytes]:
        yield b'{"content": "'
        yield b"y" * 2000
        yield b'"}'

    streamed = api.client.post(url, headers={**headers, "Content-Type": "application/json"}, content=chunks())
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "payload_too_large"
    assert api.client.get(f"/v1/threads/{thread}", headers=headers).json()["messages"] == []


def test_per_user_limit_is_429_with_retry_after(start_api: Callable[..., Api]) -> None:
    api = start_api(rate_limit_user="3/minute")
    _, headers, thread = api.student()  # the thread creation counts: 2 requests left
    other = api.login(api.user())
    for _ in range(2):
        assert api.client.get(f"/v1/threads/{thread}", headers=headers).status_code == 200
    limited = api.client.get(f"/v1/threads/{thread}", headers=headers)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert api.client.get("/v1/threads", headers=other).status_code == 200  # another user is unaffected


def test_per_ip_limit_covers_every_route_but_health(start_api: Callable[..., Api]) -> None:
    api = start_api(rate_limit_ip="4/minute")
    codes = [api.client.get("/v1/threads").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    assert api.client.get("/").status_code == 429
    assert api.client.get("/v1/health").status_code == 200


@pytest.mark.parametrize("path", ["/v1/nowhere", "/v1/threads/abc/nothing"])
def test_unknown_routes_use_the_error_shape(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    wrong_method = api.client.put("/v1/health")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_an_unexpected_failure_is_a_plain_500(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _, headers, thread = api.student()

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(api.services.tutor, "send", boom)
    monkeypatch.setattr(api.services.tutor, "stream", boom)
    response = api.client.post(f"/v1/threads/{thread}/messages", headers=headers, json={"content": "hello"})
    assert response.status_code == 500
    assert response.json()["error"] | {"trace_id": ""} == {"code": "internal", "message": "internal error",
                                                            "trace_id": ""}
    streamed = api.client.post(f"/v1/threads/{thread}/messages", json={"content": "hello"},
                               headers={**headers, "Accept": "text/event-stream"})
    assert "event: error" in streamed.text and "secret internals" not in streamed.text


def test_logs_carry_ids_but_no_usernames_or_message_text(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tutormesh")
    user, headers, thread = api.student()
    api.say(headers, thread, "practice linear equations please, my phone is 555-0199")
    api.client.post("/v1/auth/token", data={"username": user["username"], "password": "wrong-password"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert user["id"] in logged and "/v1/threads/{thread_id}/messages" in logged
    assert user["username"] not in logged and "555-0199" not in logged and "practice" not in logged


async def test_rate_limits_are_shared_through_redis(redis_url: str, isolated_settings: Settings) -> None:
    settings = isolated_settings.model_copy(update={"rate_limit_storage_url": redis_url,
                                                    "rate_limit_user": "2/minute"})
    key, prefix = uuid.uuid4().hex, f"tutormesh-test-{uuid.uuid4().hex[:6]}"
    first, second = RateLimiter(settings, key_prefix=prefix), RateLimiter(settings, key_prefix=prefix)
    try:
        await first.hit("user", key)
        await second.hit("user", key)  # another worker process would share the same counter
        with pytest.raises(RateLimited, match="rate limit exceeded") as caught:
            await first.hit("user", key)
        assert caught.value.retry_after >= 1
    finally:
        await first.close()
        await second.close()


def test_the_api_enforces_limits_through_redis(start_api: Callable[..., Api], redis_url: str) -> None:
    api = start_api(rate_limit_storage_url=redis_url, rate_limit_user="2/minute")
    _, headers, thread = api.student()
    assert api.client.get(f"/v1/threads/{thread}", headers=headers).status_code == 200
    limited = api.client.get(f"/v1/threads/{thread}", headers=headers)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1

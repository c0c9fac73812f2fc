"""Rate-limit configuration and chat message validation (pure parts of the server)."""

from __future__ import annotations

import pytest

from tutormesh.core.errors import Invalid, RateLimited
from tutormesh.core.settings import Settings
from tutormesh.server.ratelimit import RateLimiter, storage_uri
from tutormesh.server.thread_service import clean_content


@pytest.mark.parametrize(("url", "uri"), [("", "async+memory://"), ("memory://", "async+memory://"),
                                          ("redis://r:6379/0", "async+redis://r:6379/0"),
                                          ("rediss://r:6380/1", "async+rediss://r:6380/1")])
def test_storage_urls_map_to_async_storages(url: str, uri: str) -> None:
    assert storage_uri(url) == uri


def test_unknown_storage_is_rejected() -> None:
    with pytest.raises(Invalid, match="unsupported scheme"):
        storage_uri("memcached://x")


async def test_in_process_limit_counts_per_key(isolated_settings: Settings) -> None:
    limiter = RateLimiter(isolated_settings.model_copy(update={"rate_limit_user": "2/minute"}))
    await limiter.hit("user", "a")
    await limiter.hit("user", "a")
    await limiter.hit("user", "b")
    with pytest.raises(RateLimited) as caught:
        await limiter.hit("user", "a")
    assert 1 <= caught.value.retry_after <= 60
    await limiter.close()


@pytest.mark.parametrize(("content", "reason"), [("", "blank"), (" \n\t", "blank"), ("x" * 11, "at most 10"),
                                                 ("a\x00", "NUL")])
def test_bad_messages_are_refused_with_a_reason(content: str, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        clean_content(content, 10, 1000)


def test_messages_are_stripped() -> None:
    assert clean_content("  x = 3 \n", 10, 1000) == "x = 3"

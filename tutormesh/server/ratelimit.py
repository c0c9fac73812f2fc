"""Per-user and per-IP rate limits (the `limits` library): in-process by default, Redis in production.

Fixed windows: one counter increment per check, which keeps the Redis cost to one round trip.

When the shared store is unreachable the limits stay bounded rather than open: each process
enforces the same limits in its own memory (so with N processes a client gets at most N times a
limit) and tries the shared store again after `RETRY_SHARED_S`. A warning is logged per outage.
See docs/api.md.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from tutormesh.core.errors import Invalid, RateLimited
from tutormesh.core.settings import Settings

log = logging.getLogger("tutormesh.server.ratelimit")
RETRY_SHARED_S = 5.0


def storage_uri(url: str) -> str:
    """Map the configured storage URL to a `limits` async storage URI."""
    if not url or url == "memory://":
        return "async+memory://"
    if url.startswith(("redis://", "rediss://")):
        return "async+" + url
    if url.startswith("async+"):
        return url
    raise Invalid(f"rate_limit_storage_url: unsupported scheme in {url.split('://')[0]!r} (use redis://)")


class RateLimiter:
    """The limits the API enforces: per user, per client IP, and FAILED sign-ins per IP ("login")."""

    def __init__(self, settings: Settings, *, key_prefix: str = "tutormesh") -> None:
        """Parse the limits and connect the storage (lazily: nothing is contacted here)."""
        uri = storage_uri(settings.rate_limit_storage_url)
        options: dict[str, object] = {}
        if "redis" in uri:
            options = {"implementation": "redispy", "wrap_exceptions": True, "key_prefix": key_prefix,
                       "socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        self.storage = storage_from_string(uri, **options)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.local = FixedWindowRateLimiter(storage_from_string("async+memory://"))
        self._shared_down_until = 0.0
        self.items: dict[str, RateLimitItem] = {
            "user": parse(settings.rate_limit_user),
            "ip": parse(settings.rate_limit_ip),
            "login": parse(settings.rate_limit_login),
        }

    def _active(self) -> FixedWindowRateLimiter:
        return self.local if time.monotonic() < self._shared_down_until else self.limiter

    def _shared_failed(self, kind: str) -> FixedWindowRateLimiter:
        if time.monotonic() >= self._shared_down_until:
            log.warning("rate limit storage unavailable; limits enforced per process for %.0fs kind=%s",
                        RETRY_SHARED_S, kind)
        self._shared_down_until = time.monotonic() + RETRY_SHARED_S
        return self.local

    async def _over(self, limiter: FixedWindowRateLimiter, kind: str, key: str) -> RateLimited:
        item = self.items[kind]
        stats = await limiter.get_window_stats(item, kind, key)
        return RateLimited(f"rate limit exceeded ({item}); retry later",
                           retry_after=math.ceil(stats.reset_time - time.time()))

    async def hit(self, kind: str, key: str) -> None:
        """Count one request of `kind` for `key`; raise RateLimited (with Retry-After) when over."""
        if not await self._hit(kind, key):
            raise await self._over(self._active(), kind, key)

    async def _hit(self, kind: str, key: str) -> bool:
        limiter = self._active()
        try:
            return await limiter.hit(self.items[kind], kind, key)
        except StorageError:
            return await self._shared_failed(kind).hit(self.items[kind], kind, key)

    async def count_failure(self, kind: str, key: str) -> None:
        """Count one event of `kind` for `key` without refusing this one (e.g. a failed sign-in)."""
        await self._hit(kind, key)

    async def check(self, kind: str, key: str) -> None:
        """Raise RateLimited when `key` is already over its `kind` limit; count nothing."""
        limiter = self._active()
        try:
            allowed = await limiter.test(self.items[kind], kind, key)
        except StorageError:
            limiter = self._shared_failed(kind)
            allowed = await limiter.test(self.items[kind], kind, key)
        if not allowed:
            raise await self._over(limiter, kind, key)

    async def close(self) -> None:
        """Release the storage's connections, if it holds any."""
        reset = getattr(self.storage, "close", None)
        if reset is not None:
            await reset()

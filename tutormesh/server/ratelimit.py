"""Per-user and per-IP rate limits (the `limits` library): in-process by default, Redis in production.

Fixed windows: one counter increment per check, which keeps the Redis cost to one round trip.
When the shared store is unreachable the API keeps serving (limits are protection, not data) and
logs a warning.
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
    """The three limits the API enforces: per user, per client IP, and login attempts per IP."""

    def __init__(self, settings: Settings, *, key_prefix: str = "tutormesh") -> None:
        """Parse the limits and connect the storage (lazily: nothing is contacted here)."""
        uri = storage_uri(settings.rate_limit_storage_url)
        options: dict[str, object] = {}
        if "redis" in uri:
            options = {"implementation": "redispy", "wrap_exceptions": True, "key_prefix": key_prefix}
        self.storage = storage_from_string(uri, **options)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.items: dict[str, RateLimitItem] = {
            "user": parse(settings.rate_limit_user),
            "ip": parse(settings.rate_limit_ip),
            "login": parse(settings.rate_limit_login),
        }

    async def hit(self, kind: str, key: str) -> None:
        """Count one request of `kind` for `key`; raise RateLimited (with Retry-After) when over."""
        item = self.items[kind]
        try:
            if await self.limiter.hit(item, kind, key):
                return
            stats = await self.limiter.get_window_stats(item, kind, key)
        except StorageError:
            log.warning("rate limit storage unavailable; request allowed kind=%s", kind)
            return
        retry_after = math.ceil(stats.reset_time - time.time())
        raise RateLimited(f"rate limit exceeded ({item}); retry later", retry_after=retry_after)

    async def close(self) -> None:
        """Release the storage's connections, if it holds any."""
        reset = getattr(self.storage, "close", None)
        if reset is not None:
            await reset()

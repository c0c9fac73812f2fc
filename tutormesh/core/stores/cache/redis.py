"""Redis semantic cache (production): plain Redis, no search module needed.

Per scope: one hash per entry (`signature`, `answer`, `vector` bytes; never the question) with a TTL, a sorted set of
keys by insertion time (eviction and enumeration), and a version counter. Similarity runs
client-side with numpy over the scope's vectors, cached per process until the version changes; a
scope holds at most `max_entries` answers, so that matrix stays small.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import numpy as np
import redis

from tutormesh.core.stores.cache.base import CacheHit, SemanticCache, math_signature, question_key

log = logging.getLogger("tutormesh.cache")


class RedisCache(SemanticCache):
    """Cache in Redis at `url` (redis://host:6379/0); keys live under `prefix`.

    The prefix moved from `tm:cache` (whose entries held question text) to `tm:answers`.
    """

    unavailable = (redis.RedisError,)

    def __init__(self, url: str, *, threshold: float, ttl_s: int, max_entries: int = 500,
                 prefix: str = "tm:answers") -> None:
        """Connect to Redis (lazily: the first command opens the connection)."""
        super().__init__(threshold=threshold, ttl_s=ttl_s, max_entries=max_entries)
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self._lock = threading.Lock()
        self._matrices: dict[str, tuple[int, list[str], np.ndarray]] = {}

    def _k(self, scope: str, *parts: str) -> str:
        return ":".join([self.prefix, scope, *parts])

    def ping(self) -> bool:
        """Return whether the server answers (raises redis.ConnectionError when it is down)."""
        return bool(self._redis.ping())

    def get_exact(self, scope: str, key: str) -> CacheHit | None:
        """Return the entry under this key (Redis expires it after the TTL)."""
        found: list[bytes | None] = self._redis.hmget(self._k(scope, "e", key), ["signature", "answer"])  # type: ignore[assignment]
        signature, answer = found
        if signature is None or answer is None:
            return None
        return CacheHit(answer=answer.decode(), signature=signature.decode(), score=1.0, how="exact")

    def put(self, scope: str, question: str, vector: np.ndarray, answer: str) -> None:
        """Store an answer with a TTL and evict the oldest past the per-scope cap (outages: see `remember`)."""
        key = question_key(question)
        index = self._k(scope, "keys")
        pipe = self._redis.pipeline()
        pipe.hset(self._k(scope, "e", key), mapping={"signature": math_signature(question), "answer": answer,
                                                     "vector": np.asarray(vector, dtype=np.float32).tobytes()})
        pipe.expire(self._k(scope, "e", key), self.ttl_s)
        pipe.zadd(index, {key: time.time()})
        pipe.zremrangebyscore(index, "-inf", time.time() - self.ttl_s)
        pipe.zremrangebyrank(index, 0, -self.max_entries - 1)
        pipe.expire(index, self.ttl_s)
        pipe.incr(self._k(scope, "v"))
        pipe.execute()

    def clear(self) -> None:
        """Remove every entry under the prefix."""
        for name in self._redis.scan_iter(match=f"{self.prefix}:*", count=500):
            self._redis.delete(name)
        self._matrices.clear()

    def entries(self) -> Iterator[tuple[str, str, str, str]]:
        """Yield every entry under the prefix (a SCAN over the keyspace: for privacy work, not the hot path)."""
        marker = ":e:"
        for name in self._redis.scan_iter(match=f"{self.prefix}:*{marker}*", count=1000):
            head, _, key = name.decode().rpartition(marker)
            answer: bytes | None = self._redis.hget(name, "answer")  # type: ignore[assignment]
            if answer is not None:  # no question text is kept
                yield head.removeprefix(f"{self.prefix}:"), key, "", answer.decode()

    def _delete(self, entries: list[tuple[str, str]]) -> int:
        removed = 0
        for scope, key in entries:
            pipe = self._redis.pipeline()
            pipe.delete(self._k(scope, "e", key))
            pipe.zrem(self._k(scope, "keys"), key)
            pipe.incr(self._k(scope, "v"))
            removed += int(pipe.execute()[0])
        return removed

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    def _matrix(self, scope: str) -> tuple[list[str], np.ndarray]:
        raw: bytes | None = self._redis.get(self._k(scope, "v"))  # type: ignore[assignment]
        version = int(raw or 0)
        with self._lock:
            cached = self._matrices.get(scope)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
        members: list[bytes] = self._redis.zrange(self._k(scope, "keys"), 0, -1)  # type: ignore[assignment]
        keys = [k.decode() for k in members]
        pipe = self._redis.pipeline()
        for key in keys:
            pipe.hget(self._k(scope, "e", key), "vector")
        blobs = pipe.execute() if keys else []
        live = [(k, np.frombuffer(b, dtype=np.float32)) for k, b in zip(keys, blobs, strict=True) if b]
        matrix = np.stack([v for _, v in live]) if live else np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            self._matrices[scope] = (version, [k for k, _ in live], matrix)
        return [k for k, _ in live], matrix

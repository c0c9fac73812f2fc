"""Semantic cache of LLM answers: embedded (SQLite) by default, Redis in production."""

from __future__ import annotations

from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.cache.base import CacheHit, SemanticCache, normalise, question_key, scope_of
from tutormesh.core.stores.cache.embedded import EmbeddedCache

_open: dict[tuple[str, float, int, str], SemanticCache] = {}


def open_cache(settings: Settings | None = None) -> SemanticCache:
    """Return the configured cache (one per process and configuration): Redis when `cache_url` is set."""
    settings = settings or get_settings()
    target = settings.cache_url or str((settings.data_dir / "cache.db").resolve())
    key = (target, settings.cache_threshold, settings.cache_ttl_s, settings.cache_key_prefix)
    if key not in _open:
        if settings.cache_url:
            from tutormesh.core.stores.cache.redis import RedisCache

            _open[key] = RedisCache(settings.cache_url, threshold=settings.cache_threshold, ttl_s=settings.cache_ttl_s,
                                    prefix=settings.cache_key_prefix)
        else:
            _open[key] = EmbeddedCache(target, threshold=settings.cache_threshold, ttl_s=settings.cache_ttl_s)
    return _open[key]


__all__ = ["CacheHit", "EmbeddedCache", "SemanticCache", "normalise", "open_cache", "question_key", "scope_of"]

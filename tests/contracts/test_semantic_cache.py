"""The semantic cache contract over the embedded backend and the real Redis (fails under CI if Redis is down)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis

from tests.conftest import service_missing
from tutormesh.core.stores.cache import EmbeddedCache, SemanticCache, question_key, scope_of

REDIS_URL = os.environ.get("TUTORMESH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(384, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.integration)])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SemanticCache]:
    if request.param == "embedded":
        backend: SemanticCache = EmbeddedCache(tmp_path / "cache.db", threshold=0.9, ttl_s=3600, max_entries=3)
    else:
        from tutormesh.core.stores.cache.redis import RedisCache

        backend = RedisCache(REDIS_URL, threshold=0.9, ttl_s=3600, max_entries=3, prefix=f"tm:test:{uuid.uuid4().hex}")
        try:
            backend.ping()  # type: ignore[attr-defined]
        except redis.RedisError as exc:
            service_missing("Redis", exc)
    yield backend
    backend.clear()
    backend.close()


SCOPE = scope_of("two-step-equations", "en", "us")


def test_miss_on_an_empty_scope(cache: SemanticCache) -> None:
    assert cache.lookup(SCOPE, "why?", lambda: unit(1)) is None


def test_exact_hit_ignores_case_and_punctuation(cache: SemanticCache) -> None:
    cache.put(SCOPE, "Why do we subtract 4?", unit(1), "Because...")
    hit = cache.lookup(SCOPE, "  why do we SUBTRACT 4 ", lambda: pytest.fail("no embedding for an exact hit"))
    assert hit is not None and (hit.how, hit.answer, hit.score) == ("exact", "Because...", 1.0)


def test_semantic_hit_above_the_threshold_only(cache: SemanticCache) -> None:
    cache.put(SCOPE, "Why do we subtract 4?", unit(1, 0), "Because...")
    near = cache.lookup(SCOPE, "How come we take away 4?", lambda: unit(1, 0.2))
    assert near is not None and near.how == "semantic" and 0.9 <= near.score < 1.0
    assert cache.lookup(SCOPE, "What is a slope?", lambda: unit(0, 1)) is None


def test_scopes_do_not_mix(cache: SemanticCache) -> None:
    cache.put(SCOPE, "Why?", unit(1), "en answer")
    assert cache.lookup(scope_of("two-step-equations", "es", "latam"), "Why?", lambda: unit(1)) is None
    assert cache.lookup(scope_of("two-step-equations", "en", "india"), "Why?", lambda: unit(1)) is None
    assert cache.get_exact(SCOPE, question_key("why")) is not None


def test_oldest_entries_are_evicted_past_the_cap(cache: SemanticCache) -> None:
    for n in range(5):
        cache.put(SCOPE, f"question {n}", unit(1, n), f"answer {n}")
    nearest = cache.nearest(SCOPE, unit(1, 0))
    assert nearest is not None and nearest.answer in {"answer 2", "answer 3", "answer 4"}


def test_replacing_an_entry_keeps_one(cache: SemanticCache) -> None:
    cache.put(SCOPE, "Why?", unit(1), "old")
    cache.put(SCOPE, "why", unit(1), "new")
    hit = cache.lookup(SCOPE, "Why?", lambda: unit(1))
    assert hit is not None and hit.answer == "new"


def _stored_bytes(cache: SemanticCache) -> bytes:
    """Everything the backend holds, raw."""
    if isinstance(cache, EmbeddedCache):
        return repr(cache._db.execute("SELECT * FROM answers").fetchall()).encode()
    client = cache._redis  # type: ignore[attr-defined]
    out = b""
    for name in client.scan_iter(match=f"{cache.prefix}:*"):  # type: ignore[attr-defined]
        kind = client.type(name)
        out += name + (repr(client.hgetall(name)).encode() if kind == b"hash" else repr(client.dump(name)).encode())
    return out


def test_no_question_text_is_stored(cache: SemanticCache) -> None:
    question = "Why do we subtract 4 from both sides of 2x + 4 = 10, asks Priyanka from Pune?"
    cache.put(SCOPE, question, unit(1), "Because subtracting 4 undoes adding 4.")
    stored = _stored_bytes(cache)
    assert b"Priyanka" not in stored and b"Pune" not in stored and b"subtract 4 from" not in stored
    hit = cache.lookup(SCOPE, question, lambda: unit(1))
    assert hit is not None and hit.answer.startswith("Because")


def test_answers_that_echo_the_asker_are_not_remembered(cache: SemanticCache) -> None:
    assert not cache.remember(SCOPE, "I'm Cara from Leeds: why subtract 4?", unit(1), "Cara, we subtract 4 because")
    assert not cache.remember(SCOPE, "my email is cara@example.org, why?", unit(1), "Because.")
    assert cache.remember(SCOPE, "Why do we subtract 4?", unit(1), "Because it undoes +4.")
    assert cache.lookup(SCOPE, "why do we subtract 4", lambda: unit(1)) is not None


@pytest.mark.parametrize("backend", ["embedded", pytest.param("redis", marks=pytest.mark.integration)])
def test_an_unreachable_store_is_a_miss_not_an_error(backend: str, tmp_path: Path) -> None:
    if backend == "embedded":
        down: SemanticCache = EmbeddedCache(tmp_path / "cache.db", threshold=0.9, ttl_s=3600)
        down.close()  # every later call raises sqlite3.ProgrammingError
    else:
        from tutormesh.core.stores.cache.redis import RedisCache

        down = RedisCache("redis://127.0.0.1:1/0", threshold=0.9, ttl_s=3600)  # nothing listens on port 1
    assert down.lookup(SCOPE, "why?", lambda: unit(1)) is None
    assert down.remember(SCOPE, "why?", unit(1), "Because.") is False
def test_a_students_questions_are_found_and_forgotten_in_every_scope(cache: SemanticCache) -> None:
    cache.put(scope_of("fractions", "en", "us"), "Why do we flip the fraction when dividing?", unit(1, 0), "Because...")
    cache.put(scope_of("fractions", "es", "latam"), "why do we flip the fraction when dividing", unit(1, 0),
              "Porque...")
    cache.put(scope_of("fractions", "en", "us"), "What is a numerator?", unit(0, 1), "The top number.")
    mine = ["Why do we flip the fraction when dividing?"]
    assert sorted(e["answer"] for e in cache.entries_for(mine)) == ["Because...", "Porque..."]
    # Questions are kept only as hashes: a scan finds answers' text, never a question's.
    assert set(cache.find_texts(["flip the fraction", "top number", "not stored"])) == {"top number"}
    assert cache.forget_questions(mine) == 2
    assert cache.entries_for(mine) == []
    assert cache.lookup(scope_of("fractions", "en", "us"), mine[0], lambda: unit(1, 0)) is None
    assert cache.lookup(scope_of("fractions", "en", "us"), "What is a numerator?", lambda: unit(0, 1)) is not None

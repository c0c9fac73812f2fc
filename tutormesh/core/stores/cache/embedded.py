"""Embedded semantic cache: a SQLite file, with each scope's vectors searched by numpy."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tutormesh.core.db import private_file
from tutormesh.core.stores.cache.base import CacheHit, SemanticCache, math_signature, question_key

# The old `cache` table kept each question's text; it is dropped (see the module docstring of base).
_SCHEMA = """
DROP TABLE IF EXISTS cache;
CREATE TABLE IF NOT EXISTS answers (
    scope TEXT NOT NULL, key TEXT NOT NULL, signature TEXT NOT NULL, answer TEXT NOT NULL,
    vector BLOB NOT NULL, created REAL NOT NULL, PRIMARY KEY (scope, key));
"""


class EmbeddedCache(SemanticCache):
    """Cache in one SQLite file (or memory); a per-scope matrix is reloaded when the scope changes."""

    unavailable = (sqlite3.Error,)

    def __init__(self, path: str | Path = ":memory:", *, threshold: float, ttl_s: int, max_entries: int = 500) -> None:
        """Open (and create) the cache file."""
        super().__init__(threshold=threshold, ttl_s=ttl_s, max_entries=max_entries)
        if str(path) != ":memory:":
            private_file(Path(path))
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._matrices: dict[str, tuple[tuple[int, float], list[str], np.ndarray]] = {}

    def get_exact(self, scope: str, key: str) -> CacheHit | None:
        """Return the live entry under this key."""
        with self._lock:
            row = self._db.execute("SELECT signature, answer, created FROM answers WHERE scope = ? AND key = ?",
                                   (scope, key)).fetchone()
        if row is None or self._expired(row[2]):
            return None
        return CacheHit(answer=row[1], signature=row[0], score=1.0, how="exact")

    def put(self, scope: str, question: str, vector: np.ndarray, answer: str) -> None:
        """Store an answer and evict the oldest entries past the per-scope cap."""
        blob = np.asarray(vector, dtype=np.float32).tobytes()
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                             (scope, question_key(question), math_signature(question), answer, blob, time.time()))
            self._db.execute("DELETE FROM answers WHERE scope = ? AND key NOT IN (SELECT key FROM answers "
                             "WHERE scope = ? ORDER BY created DESC LIMIT ?)", (scope, scope, self.max_entries))

    def clear(self) -> None:
        """Remove every entry."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM answers")
        self._matrices.clear()

    def entries(self) -> Iterator[tuple[str, str, str, str]]:
        """Yield every stored entry (expired ones too: they still hold text)."""
        with self._lock:
            rows = self._db.execute("SELECT scope, key, '', answer FROM answers").fetchall()  # no question text is kept
        yield from ((str(a), str(b), str(c), str(d)) for a, b, c, d in rows)

    def _delete(self, entries: list[tuple[str, str]]) -> int:
        with self._lock:
            self._db.execute("PRAGMA secure_delete=ON")  # erasure: overwrite, do not leave free pages
            with self._db:
                removed = sum(self._db.execute("DELETE FROM answers WHERE scope = ? AND key = ?", pair).rowcount
                              for pair in entries)
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._matrices.clear()
        return removed

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def _matrix(self, scope: str) -> tuple[list[str], np.ndarray]:
        with self._lock:
            stamp = self._db.execute("SELECT count(*), coalesce(max(created), 0) FROM answers WHERE scope = ?",
                                     (scope,)).fetchone()
            cached = self._matrices.get(scope)
            if cached is not None and cached[0] == tuple(stamp):
                return cached[1], cached[2]
            rows = self._db.execute("SELECT key, vector, created FROM answers WHERE scope = ?", (scope,)).fetchall()
        live = [r for r in rows if not self._expired(r[2])]
        matrix = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in live]) if live else np.zeros((0, 0))
        self._matrices[scope] = ((int(stamp[0]), float(stamp[1])), [r[0] for r in live], matrix)
        return [r[0] for r in live], matrix

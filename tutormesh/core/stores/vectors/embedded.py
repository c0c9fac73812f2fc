"""Embedded vector index: rows in a SQLite file, brute-force numpy search over a cached matrix.

Measured on this machine class (STACK-NOTES): numpy over 10k x 384 float32 takes about 0.24 ms
per query, sqlite-vec's vec0 about 5 ms, and sqlite-vec needs a SQLite build that can load
extensions (pysqlite3). The curriculum is a few hundred passages, so brute force wins.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import numpy as np

from tutormesh.core.db import private_file
from tutormesh.core.stores.vectors.base import Doc, Hit, VectorStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    collection TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL, meta TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (collection, id));
CREATE TABLE IF NOT EXISTS versions (collection TEXT PRIMARY KEY, version INTEGER NOT NULL);
"""


class _Matrix:
    def __init__(self, version: int, ids: list[str], texts: list[str], metas: list[dict[str, str]],
                 vectors: np.ndarray) -> None:
        self.version, self.ids, self.texts, self.metas, self.vectors = version, ids, texts, metas, vectors


class EmbeddedVectorStore(VectorStore):
    """One SQLite file (`path`, or memory); each process keeps a matrix per collection, reloaded on change."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        """Open (and create) the index file."""
        if str(path) != ":memory:":
            private_file(Path(path))
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._cache: dict[str, _Matrix] = {}

    def upsert(self, collection: str, docs: list[Doc]) -> None:
        """Insert or replace documents by id."""
        rows = [(collection, d.id, d.text, json.dumps(d.metadata, sort_keys=True),
                 np.asarray(d.vector, dtype=np.float32).tobytes()) for d in docs]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)", rows)
            self._bump(collection)

    def search(self, collection: str, vector: np.ndarray, *, k: int = 5,
               where: dict[str, str] | None = None) -> list[Hit]:
        """Return the k nearest documents by cosine similarity, best first."""
        matrix = self._matrix(collection)
        if matrix is None or not matrix.ids:
            return []
        scores = matrix.vectors @ np.asarray(vector, dtype=np.float32)
        if where:
            keep = np.array([all(m.get(key) == value for key, value in where.items()) for m in matrix.metas])
            scores = np.where(keep, scores, -np.inf)
        top = np.argsort(-scores)[:k]
        return [Hit(matrix.ids[i], float(scores[i]), matrix.texts[i], matrix.metas[i])
                for i in top if np.isfinite(scores[i])]

    def count(self, collection: str) -> int:
        """Return how many documents a collection holds."""
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM vectors WHERE collection = ?", (collection,)).fetchone()
        return int(row[0])

    def delete(self, collection: str, ids: list[str]) -> int:
        """Delete documents by id; return how many were deleted."""
        with self._lock, self._db:
            deleted = sum(self._db.execute("DELETE FROM vectors WHERE collection = ? AND id = ?",
                                           (collection, doc_id)).rowcount for doc_id in dict.fromkeys(ids))
            if deleted:
                self._bump(collection)
        return deleted

    def drop(self, collection: str) -> None:
        """Delete a collection."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM vectors WHERE collection = ?", (collection,))
            self._bump(collection)

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def _bump(self, collection: str) -> None:
        self._db.execute("INSERT INTO versions VALUES (?, 1) ON CONFLICT(collection) DO UPDATE "
                         "SET version = version + 1", (collection,))

    def _matrix(self, collection: str) -> _Matrix | None:
        with self._lock:
            found = self._db.execute("SELECT version FROM versions WHERE collection = ?", (collection,)).fetchone()
            if found is None:
                return None
            cached = self._cache.get(collection)
            if cached is not None and cached.version == found[0]:
                return cached
            rows = self._db.execute("SELECT id, text, meta, vector FROM vectors WHERE collection = ? ORDER BY id",
                                    (collection,)).fetchall()
        vectors = (np.stack([np.frombuffer(r[3], dtype=np.float32) for r in rows]) if rows
                   else np.zeros((0, 0), dtype=np.float32))
        matrix = _Matrix(found[0], [r[0] for r in rows], [r[1] for r in rows], [json.loads(r[2]) for r in rows],
                         vectors)
        self._cache[collection] = matrix
        return matrix

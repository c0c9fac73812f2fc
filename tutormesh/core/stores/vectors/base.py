"""The vector store interface: collections of (id, text, vector, metadata), nearest-neighbour search."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Doc:
    """One indexed passage; `vector` is L2-normalised float32 (cosine = dot product)."""

    id: str
    text: str
    vector: np.ndarray
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A search result: cosine similarity in [-1, 1], higher is closer."""

    id: str
    score: float
    text: str
    metadata: dict[str, str]


class VectorStore(ABC):
    """Collections of passages searched by vector; metadata filters are exact string matches."""

    @abstractmethod
    def upsert(self, collection: str, docs: list[Doc]) -> None:
        """Insert or replace documents by id."""

    @abstractmethod
    def search(self, collection: str, vector: np.ndarray, *, k: int = 5,
               where: dict[str, str] | None = None) -> list[Hit]:
        """Return the k nearest documents, best first, among those whose metadata match `where`."""

    @abstractmethod
    def count(self, collection: str) -> int:
        """Return how many documents a collection holds (0 if it does not exist)."""

    @abstractmethod
    def delete(self, collection: str, ids: list[str]) -> int:
        """Delete documents by id (ids not present are ignored); return how many were deleted."""

    @abstractmethod
    def drop(self, collection: str) -> None:
        """Delete a collection and its documents (no error if absent)."""

    def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing
        """Release connections."""

    def best(self, collection: str, vector: np.ndarray, **filters: Any) -> Hit | None:
        """Return the single nearest document, or None for an empty collection."""
        hits = self.search(collection, vector, k=1, where={k: str(v) for k, v in filters.items()} or None)
        return hits[0] if hits else None

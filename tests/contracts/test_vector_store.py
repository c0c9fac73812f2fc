"""The vector store contract: every backend present passes the same tests (Weaviate when WEAVIATE_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tutormesh.core.stores.vectors import Doc, EmbeddedVectorStore, VectorStore

WEAVIATE_URL = os.environ.get("WEAVIATE_URL", "")


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(384, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


@pytest.fixture(params=["embedded", pytest.param("weaviate", marks=pytest.mark.skipif(
    not WEAVIATE_URL, reason="WEAVIATE_URL is not set (no Weaviate server can run here)"))])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    if request.param == "embedded":
        backend: VectorStore = EmbeddedVectorStore(tmp_path / "vectors.db")
    else:
        from tutormesh.core.stores.vectors.weaviate import WeaviateVectorStore

        backend = WeaviateVectorStore(WEAVIATE_URL)
    yield backend
    backend.close()


@pytest.fixture
def name() -> str:
    return f"contract_{uuid.uuid4().hex[:8]}"


def test_nearest_first(store: VectorStore, name: str) -> None:
    store.upsert(name, [Doc("a", "alpha", unit(1, 0)), Doc("b", "beta", unit(0, 1)), Doc("c", "gamma", unit(1, 1))])
    hits = store.search(name, unit(1, 0.1), k=2)
    assert [h.id for h in hits] == ["a", "c"] and hits[0].text == "alpha"
    assert hits[0].score == pytest.approx(float(unit(1, 0) @ unit(1, 0.1)), abs=1e-4)
    store.drop(name)


def test_upsert_replaces_by_id(store: VectorStore, name: str) -> None:
    store.upsert(name, [Doc("a", "old", unit(1, 0))])
    store.upsert(name, [Doc("a", "new", unit(0, 1))])
    assert store.count(name) == 1
    assert store.search(name, unit(0, 1), k=1)[0].text == "new"
    store.drop(name)


def test_filters_on_metadata(store: VectorStore, name: str) -> None:
    store.upsert(name, [Doc("a", "x", unit(1, 0), {"topic": "slope"}), Doc("b", "y", unit(1, 0.2), {"topic": "speed"})])
    assert [h.id for h in store.search(name, unit(1, 0), k=5, where={"topic": "speed"})] == ["b"]
    assert store.best(name, unit(1, 0), topic="slope").metadata["topic"] == "slope"  # type: ignore[union-attr]
    store.drop(name)


def test_delete_removes_only_the_named_documents(store: VectorStore, name: str) -> None:
    store.upsert(name, [Doc("a", "x", unit(1, 0), {"topic": "slope"}), Doc("b", "y", unit(0, 1)),
                        Doc("c", "z", unit(1, 1))])
    assert store.search(name, unit(1, 0), k=1)[0].id == "a"  # searched once: a cached index must see the delete
    assert store.delete(name, ["a", "c", "never-there"]) == 2
    assert store.count(name) == 1 and [h.id for h in store.search(name, unit(1, 0), k=5)] == ["b"]
    assert store.delete(name, ["a"]) == 0 and store.delete(f"{name}_missing", ["b"]) == 0
    store.drop(name)


def test_missing_and_dropped_collections_are_empty(store: VectorStore, name: str) -> None:
    assert store.search(name, unit(1), k=3) == [] and store.count(name) == 0
    store.upsert(name, [Doc("a", "x", unit(1))])
    store.drop(name)
    assert store.count(name) == 0 and store.search(name, unit(1)) == []


def test_embedded_index_persists_across_opens(tmp_path: Path) -> None:
    first = EmbeddedVectorStore(tmp_path / "v.db")
    first.upsert("c", [Doc("a", "kept", unit(1))])
    first.close()
    again = EmbeddedVectorStore(tmp_path / "v.db")
    assert again.search("c", unit(1))[0].text == "kept"
    again.close()

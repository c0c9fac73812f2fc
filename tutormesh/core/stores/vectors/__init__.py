"""Vector stores: one interface, an embedded index by default and Weaviate in production."""

from __future__ import annotations

from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.vectors.base import Doc, Hit, VectorStore
from tutormesh.core.stores.vectors.embedded import EmbeddedVectorStore


def open_vector_store(settings: Settings | None = None) -> VectorStore:
    """Return the configured vector store: Weaviate when `weaviate_url` is set, else the embedded index."""
    settings = settings or get_settings()
    if settings.weaviate_url:
        from tutormesh.core.stores.vectors.weaviate import WeaviateVectorStore

        return WeaviateVectorStore(settings.weaviate_url)
    return EmbeddedVectorStore(settings.data_dir / "vectors.db")


__all__ = ["Doc", "EmbeddedVectorStore", "Hit", "VectorStore", "open_vector_store"]

"""Weaviate adapter (weaviate-client v4) for production: self-provided vectors, cosine HNSW.

Each TutorMesh collection is a Weaviate collection named `Tutormesh_<name>`. Documents keep their
own id as a deterministic UUID (uuid5), so an upsert replaces; metadata keys become text
properties and `where` filters are `Filter.by_property(key).equal(value)` joined with AND.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import numpy as np
import weaviate
from weaviate.classes.config import Configure, DataType, Property, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.init import Auth
from weaviate.classes.query import Filter, MetadataQuery
from weaviate.util import generate_uuid5

from tutormesh.core.stores.vectors.base import Doc, Hit, VectorStore

_RESERVED = {"doc_id", "text"}


def collection_name(name: str) -> str:
    """Map a TutorMesh collection to a valid Weaviate class name (capitalised, [A-Za-z0-9_])."""
    return "Tutormesh_" + re.sub(r"[^0-9A-Za-z_]", "_", name)


class WeaviateVectorStore(VectorStore):
    """Collections in a Weaviate server; `url` like http://127.0.0.1:8080 (gRPC on `grpc_port`)."""

    def __init__(self, url: str, *, grpc_port: int = 50051, api_key: str | None = None) -> None:
        """Connect to the Weaviate server at `url`."""
        parsed = urlparse(url)
        secure = parsed.scheme == "https"
        self._client = weaviate.connect_to_custom(
            http_host=parsed.hostname or "127.0.0.1", http_port=parsed.port or (443 if secure else 8080),
            http_secure=secure, grpc_host=parsed.hostname or "127.0.0.1", grpc_port=grpc_port, grpc_secure=secure,
            auth_credentials=Auth.api_key(api_key) if api_key else None)

    def _collection(self, name: str, metadata_keys: frozenset[str] | set[str] = frozenset()):  # type: ignore[no-untyped-def]
        full = collection_name(name)
        if not self._client.collections.exists(full):
            self._client.collections.create(
                full,
                properties=[Property(name="doc_id", data_type=DataType.TEXT),
                            Property(name="text", data_type=DataType.TEXT),
                            *[Property(name=k, data_type=DataType.TEXT) for k in sorted(metadata_keys - _RESERVED)]],
                vector_config=Configure.Vectors.self_provided(
                    vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.COSINE)),
            )
        return self._client.collections.get(full)

    def upsert(self, collection: str, docs: list[Doc]) -> None:
        """Insert or replace documents (same id, same UUID)."""
        if not docs:
            return
        keys = {k for d in docs for k in d.metadata}
        target = self._collection(collection, keys)
        objects = [DataObject(properties={"doc_id": d.id, "text": d.text, **d.metadata}, uuid=generate_uuid5(d.id),
                              vector=np.asarray(d.vector, dtype=np.float32).tolist()) for d in docs]
        for d in docs:  # insert_many does not replace: delete first so an upsert is an upsert
            target.data.delete_by_id(generate_uuid5(d.id))
        result = target.data.insert_many(objects)
        if result.has_errors:
            raise RuntimeError(f"weaviate insert failed: {list(result.errors.values())[:3]}")

    def search(self, collection: str, vector: np.ndarray, *, k: int = 5,
               where: dict[str, str] | None = None) -> list[Hit]:
        """Return the k nearest documents; score is 1 - cosine distance."""
        if not self._client.collections.exists(collection_name(collection)):
            return []
        filters = None
        for key, value in (where or {}).items():
            clause = Filter.by_property(key).equal(value)
            filters = clause if filters is None else filters & clause
        response = self._collection(collection).query.near_vector(
            near_vector=np.asarray(vector, dtype=np.float32).tolist(), limit=k, filters=filters,
            return_metadata=MetadataQuery(distance=True))
        hits = []
        for obj in response.objects:
            props = dict(obj.properties)
            doc_id, text = str(props.pop("doc_id")), str(props.pop("text"))
            meta = {key: str(value) for key, value in props.items() if value is not None}
            distance = obj.metadata.distance if obj.metadata.distance is not None else 1.0
            hits.append(Hit(doc_id, 1.0 - float(distance), text, meta))
        return hits

    def count(self, collection: str) -> int:
        """Return how many documents a collection holds."""
        if not self._client.collections.exists(collection_name(collection)):
            return 0
        return int(self._collection(collection).aggregate.over_all(total_count=True).total_count or 0)

    def delete(self, collection: str, ids: list[str]) -> int:
        """Delete documents by id (their uuid5); return how many were deleted."""
        if not ids or not self._client.collections.exists(collection_name(collection)):
            return 0
        target = self._collection(collection)
        return sum(1 for doc_id in dict.fromkeys(ids) if target.data.delete_by_id(generate_uuid5(doc_id)))

    def drop(self, collection: str) -> None:
        """Delete a collection."""
        self._client.collections.delete(collection_name(collection))

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

"""Curriculum retrieval: lessons and item templates indexed in the vector store, for grounding.

Each topic contributes passages (the lesson explanation, its worked example, each item template's
prompt and hints). The index is rebuilt when the curriculum changes (a fingerprint of its text).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tutormesh.core import llm
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.vectors import Doc, Hit, VectorStore, open_vector_store
from tutormesh.tools.curriculum import Curriculum, Topic, load_curriculum

COLLECTION = "curriculum"
_lock = threading.Lock()
_indexed: dict[str, str] = {}
_vectors: dict[tuple[str, str], list[np.ndarray]] = {}  # (fingerprint, embedder) -> passage vectors, per process
_stores: dict[str, VectorStore] = {}


@dataclass(frozen=True)
class Passage:
    """A piece of curriculum text and where it comes from."""

    id: str
    topic: str
    kind: str
    text: str


def passages(topic: Topic) -> list[Passage]:
    """Return the passages of one topic: lesson, worked example, and one per item template."""
    lesson, example = topic.lesson, topic.lesson.worked_example
    steps = "\n".join(f"{n}. {s}" for n, s in enumerate(example.steps, 1))
    out = [Passage(f"{topic.slug}:lesson", topic.slug, "lesson", f"{lesson.title}\n{lesson.explanation.strip()}"),
           Passage(f"{topic.slug}:example", topic.slug, "example",
                   f"Worked example: {example.problem}\n{steps}\nAnswer: {example.answer}")]
    for template in topic.templates:
        out.append(Passage(f"{template.id}", topic.slug, "item",
                           f"{topic.title} practice (level {template.difficulty}): {template.variants['A']}\n"
                           f"Hints: {' '.join(template.hints)}"))
    return out


def _fingerprint(curriculum: Curriculum) -> str:
    digest = hashlib.sha256()
    for topic in curriculum.topics():
        for passage in passages(topic):
            digest.update(f"{passage.id}\0{passage.text}\0".encode())
    return digest.hexdigest()[:16]


def ensure_index(store: VectorStore, settings: Settings | None = None) -> int:
    """Index the curriculum if this store lacks the current version; return the passages indexed."""
    settings = settings or get_settings()
    curriculum = load_curriculum()
    fingerprint = _fingerprint(curriculum)
    marker = f"{COLLECTION}-{fingerprint}"
    with _lock:
        if _indexed.get(str(settings.data_dir.resolve())) == marker or store.count(marker) > 0:
            _indexed[str(settings.data_dir.resolve())] = marker
            return 0
        found = [p for topic in curriculum.topics() for p in passages(topic)]
        memo = (fingerprint, settings.embedding_base_url)
        vectors = _vectors.get(memo) or _vectors.setdefault(memo, _passage_vectors([p.text for p in found], settings))
        store.drop(COLLECTION)
        store.upsert(COLLECTION, [Doc(p.id, p.text, v, {"topic": p.topic, "kind": p.kind})
                                  for p, v in zip(found, vectors, strict=True)])
        store.upsert(marker, [Doc("done", fingerprint, vectors[0], {})])
        _indexed[str(settings.data_dir.resolve())] = marker
        return len(found)


def _passage_vectors(texts: list[str], settings: Settings) -> list[np.ndarray]:
    if settings.embedding_base_url:
        return [llm.embed(t, "passage", settings) for t in texts]
    # In-process e5 is deterministic: keep the vectors per curriculum version, so a new data dir
    # (or a test) does not embed the whole curriculum again.
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    memo = Path.home() / ".cache" / "tutormesh" / f"curriculum-e5-{digest}.npy"
    if memo.exists():
        return list(np.load(memo))
    vectors = llm.encode(texts, "passage", settings)  # one batch: much faster than one call per text
    memo.parent.mkdir(parents=True, exist_ok=True)
    partial = memo.with_suffix(".part.npy")
    np.save(partial, vectors)
    partial.replace(memo)
    return list(vectors)


def retrieve(question: str, *, topic: str | None = None, k: int = 3, vector: np.ndarray | None = None,
             settings: Settings | None = None) -> list[Hit]:
    """Return the k passages closest to a question, those of `topic` first when one is known."""
    settings = settings or get_settings()
    store = vector_store(settings)
    ensure_index(store, settings)
    query = vector if vector is not None else llm.embed(question, "query", settings)
    hits = store.search(COLLECTION, query, k=k, where={"topic": topic}) if topic else []
    seen = {h.id for h in hits}
    hits += [h for h in store.search(COLLECTION, query, k=k) if h.id not in seen]
    return hits[:k]


def vector_store(settings: Settings | None = None) -> VectorStore:
    """Return this process's connection to the configured vector store (opened once)."""
    settings = settings or get_settings()
    key = settings.weaviate_url or str(settings.data_dir.resolve())
    with _lock:
        if key not in _stores:
            _stores[key] = open_vector_store(settings)
        return _stores[key]

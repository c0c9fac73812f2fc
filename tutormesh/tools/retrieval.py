"""Curriculum retrieval: lessons and item templates indexed in the vector store, for grounding.

Each topic contributes passages (the lesson explanation, its worked example, each item template's
prompt and hints). The shipped curriculum's index is rebuilt when its text changes (a fingerprint).
Published content (tutormesh/content) adds its topics' passages, the deck's figures and the
assignment, tagged `source=content` and its job, and deletes them when unpublished; they are kept
in the overlay files too, so a rebuild of the shipped index puts them back.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from tutormesh.core import llm
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.vectors import Doc, Hit, VectorStore, open_vector_store
from tutormesh.tools.curriculum import Curriculum, Topic, load_curriculum, overlay
from tutormesh.tools.ingest.draft import Draft

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
    meta: dict[str, str] = field(default_factory=dict)

    def doc(self, vector: np.ndarray) -> Doc:
        """The passage as a vector-store document."""
        return Doc(self.id, self.text, vector, {**self.meta, "topic": self.topic, "kind": self.kind})


def passages(topic: Topic) -> list[Passage]:
    """Return the passages of one topic: lesson, worked example, and one per item template."""
    lesson, example = topic.lesson, topic.lesson.worked_example
    out = [Passage(f"{topic.slug}:lesson", topic.slug, "lesson", f"{lesson.title}\n{lesson.explanation.strip()}"),
           Passage(f"{topic.slug}:example", topic.slug, "example",
                   f"Worked example: {example.problem}\n{example.step_list()}\nAnswer: {example.answer}")]
    for template in topic.templates:
        out.append(Passage(f"{template.id}", topic.slug, "item",
                           f"{topic.title} practice (level {template.difficulty}): {template.variants['A']}\n"
                           f"Hints: {' '.join(template.hints)}"))
    return out


def draft_passages(draft: Draft, job_id: str, dropped: frozenset[str] = frozenset()) -> list[Passage]:
    """Return what publishing a draft indexes: its topics' passages, the deck's figures, the assignment."""
    source = {"source": "content", "job": job_id, "deck": draft.deck.file_name[:120]}
    slides = {s.number: s for s in draft.deck.slides}
    out: list[Passage] = []
    kept = [t for t in draft.topics if t.topic.slug not in dropped]
    for entry in kept:
        where = {**source, "slides": ",".join(str(n) for n in entry.source_slides)}
        out += [Passage(p.id, p.topic, p.kind, p.text, where) for p in passages(entry.topic)]
        for number in entry.source_slides:
            for n, figure in enumerate(slides[number].figures if number in slides else []):
                out.append(Passage(f"{entry.topic.slug}:figure:{number}.{n}", entry.topic.slug, "figure",
                                   f"{figure.kind.capitalize()} on slide {number} of {draft.deck.file_name}: "
                                   f"{figure.alt}", {**where, "slide": str(number), "figure": figure.kind}))
    ids = {t.id for entry in kept for t in entry.topic.templates}
    if draft.assignment and (chosen := [i for i in draft.assignment.template_ids if i in ids]):
        titles = [e.topic.title for e in kept if any(t.id in chosen for t in e.topic.templates)]
        out.append(Passage(f"assignment:{job_id}", kept[0].topic.slug, "assignment",
                           f"Assignment: {draft.assignment.title} ({len(chosen)} items: {', '.join(titles)})",
                           {**source, "templates": ",".join(chosen)}))
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
    curriculum = load_curriculum(published=False)
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
        store.upsert(COLLECTION, [p.doc(v) for p, v in zip(found, vectors, strict=True)])
        published = [Passage(**p) for p in overlay.passages(settings.data_dir)]
        if published:
            store.upsert(COLLECTION, [p.doc(v) for p, v in zip(published, _embed_new(published, settings),
                                                               strict=True)])
        store.upsert(marker, [Doc("done", fingerprint, vectors[0], {})])
        _indexed[str(settings.data_dir.resolve())] = marker
        return len(found) + len(published)


def index_published(store: VectorStore, found: list[Passage], settings: Settings | None = None) -> int:
    """Add published passages to the index (building the shipped part first if it is missing)."""
    settings = settings or get_settings()
    if ensure_index(store, settings):  # just built: the overlay's passages, these included, are in
        return len(found)
    if found:
        store.upsert(COLLECTION, [p.doc(v) for p, v in zip(found, _embed_new(found, settings), strict=True)])
    return len(found)


def unindex(store: VectorStore, ids: list[str]) -> int:
    """Delete published passages from the index; return how many were there."""
    return store.delete(COLLECTION, ids)


def passage_rows(found: list[Passage]) -> list[dict[str, object]]:
    """Passages as JSON rows (kept with a published version and in its overlay file)."""
    return [asdict(p) for p in found]


def _embed_new(found: list[Passage], settings: Settings) -> list[np.ndarray]:
    if settings.embedding_base_url:
        return [llm.embed(p.text, "passage", settings) for p in found]
    return list(llm.encode([p.text for p in found], "passage", settings))


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


# --- topic routing: which curriculum topic a message names ---------------------------------------
ALIASES = Path(__file__).resolve().parents[1] / "data" / "understanding" / "topic_aliases.yaml"
# A topic is named when its best passage scores at least TOPIC_MIN_SCORE against the message, and
# every topic within TOPIC_MARGIN of the best is a candidate ("linear equations" names three).
# Calibrated on the train split of data/understanding/utterances.jsonl (docs/conversation.md).
TOPIC_MIN_SCORE = 0.86
TOPIC_MARGIN = 0.012


@dataclass(frozen=True)
class TopicIndex:
    """Embeddings of every topic's names and texts, and which topic each row belongs to."""

    slugs: tuple[str, ...]
    owner: np.ndarray
    vectors: np.ndarray


def topic_texts(topic: Topic, aliases: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Return (kind, text) rows that describe a topic: names as queries, lessons as passages."""
    names = [topic.title, topic.lesson.title, *topic.keywords, *(a for names in aliases.values() for a in names)]
    example = topic.lesson.worked_example
    return [*(("query", n) for n in dict.fromkeys(names)),
            ("passage", f"{topic.title}: {topic.lesson.explanation.strip()}"),
            ("passage", f"{topic.title}. Worked example: {example.problem}. {' '.join(example.steps)}")]


def topic_index() -> TopicIndex:
    """Embed the curriculum's topics once per process and published set (memoised on disk by content)."""
    return _topic_index(load_curriculum())


@lru_cache(maxsize=1)
def _topic_index(curriculum: Curriculum) -> TopicIndex:
    import yaml

    aliases: dict[str, dict[str, list[str]]] = yaml.safe_load(ALIASES.read_text(encoding="utf-8")) or {}
    slugs, owner, rows = [], [], []
    for topic in curriculum.topics():
        slugs.append(topic.slug)
        for kind, text in topic_texts(topic, aliases.get(topic.slug, {})):
            owner.append(len(slugs) - 1)
            rows.append((kind, text))
    digest = hashlib.sha256("\0".join(f"{k}:{t}" for k, t in rows).encode()).hexdigest()[:16]
    memo = Path.home() / ".cache" / "tutormesh" / f"topics-e5-{digest}.npy"
    if memo.exists():
        vectors = np.load(memo)
    else:
        vectors = np.zeros((len(rows), 384), dtype=np.float32)
        for kind in ("query", "passage"):
            picked = [i for i, (k, _) in enumerate(rows) if k == kind]
            vectors[picked] = llm.encode([rows[i][1] for i in picked], kind)  # type: ignore[arg-type]
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_suffix(".part.npy")
        np.save(partial, vectors)
        partial.replace(memo)
    return TopicIndex(tuple(slugs), np.array(owner), vectors)


def topic_scores(vector: np.ndarray) -> dict[str, float]:
    """Return each topic's best similarity to a message's e5 query vector."""
    index = topic_index()
    sims = index.vectors @ vector
    best = np.full(len(index.slugs), -1.0)
    np.maximum.at(best, index.owner, sims)
    return {slug: float(s) for slug, s in zip(index.slugs, best, strict=True)}


def named_topics(vector: np.ndarray, *, min_score: float = TOPIC_MIN_SCORE,
                 margin: float = TOPIC_MARGIN) -> tuple[str, ...]:
    """Return the topics a message names, best first: () when none scores high enough."""
    scores = topic_scores(vector)
    top = max(scores.values())
    if top < min_score:
        return ()
    close = [(s, slug) for slug, s in scores.items() if s >= top - margin]
    return tuple(slug for _, slug in sorted(close, reverse=True))

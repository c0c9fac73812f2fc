"""The semantic cache interface: exact match first, then embedding similarity above a threshold.

Entries are scoped by curriculum topic (or item), language and cultural context, so a cached answer
is only reused for the same topic in the same language for students of the same context (an answer
written with rupees and cricket for India is not served to a student in the US). The answer stored
is the generic, checked one; personalisation (name, examples for the learner's style) is applied
after retrieval.

Shared across students, so it holds no student's words: an entry is the hash of the normalised
question, the question's math signature (digits and operators only), its embedding and the
answer; never the question's text. Answers that repeat something identifying from the question
are not stored (`may_identify`). See docs/llm.md.

The cache is an optimisation: when its store is unreachable, `lookup` is a miss and `remember`
does nothing (with a warning), so a question is still answered.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)
_CONTACT = re.compile(r"[^\s@]+@[^\s@]+\.\w+|\d[\d\s().-]{6,}\d")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")


@dataclass(frozen=True)
class CacheHit:
    """A cached answer and how it was found: "exact" (score 1.0) or "semantic" (cosine similarity)."""

    answer: str
    signature: str
    score: float
    how: str


def may_identify(question: str, answer: str) -> bool:
    """Whether an answer may carry something identifying from the question: never share it.

    An email address or phone-like number in the question, or a capitalised word inside a
    sentence of the question (a name, a place) that the answer repeats.
    """
    if _CONTACT.search(question):
        return True
    names = {m.group(0) for m in _NAME.finditer(question.strip())}
    return any(re.search(rf"\b{re.escape(name)}\b", answer) for name in names)


def normalise(question: str) -> str:
    """Fold case, whitespace and trailing punctuation, so trivially different questions match exactly."""
    return re.sub(r"\s+", " ", question.strip().lower()).strip(" ?!.¿¡।")


def math_signature(question: str) -> str:
    """Return the digits and operators of a question, in order ("3x + 4 = -11" -> "3+4=-11").

    Embeddings barely see numbers (measured: "solve 3x + 4 = -11" vs "solve 3x - 4 = 11" scores
    0.99), so a semantic hit also needs the same math; paraphrases of the words still match.
    """
    return "".join(re.findall(r"[0-9+\-*/^=<>.]", re.sub(r"(?<=[a-z])-(?=[a-z])", " ", question.lower()))).strip(".")


def question_key(question: str) -> str:
    """Return the exact-match key of a question."""
    return hashlib.sha256(normalise(question).encode()).hexdigest()[:32]


def scope_of(topic: str, language: str, culture: str) -> str:
    """Return the cache scope: curriculum topic (or item id), language and cultural context slug.

    `culture` is the resolved slug the answer was written for (`Curriculum.culture`: the
    profile's context, else the language's default), so aliases of one context share entries.
    """
    return f"{topic}|{language}|{culture}"


class SemanticCache(ABC):
    """Answers keyed by scope and question; `max_entries` per scope, oldest evicted first."""

    unavailable: tuple[type[Exception], ...] = ()  # what the backend raises when its store is down

    def __init__(self, *, threshold: float, ttl_s: int, max_entries: int = 500) -> None:
        """Set the similarity threshold (cosine), entry lifetime and the per-scope cap."""
        self.threshold, self.ttl_s, self.max_entries = threshold, ttl_s, max_entries

    @abstractmethod
    def get_exact(self, scope: str, key: str) -> CacheHit | None:
        """Return the entry stored under exactly this key."""

    @abstractmethod
    def _matrix(self, scope: str) -> tuple[list[str], np.ndarray]:
        """Return the scope's entry keys and their vectors (one row per key)."""

    def nearest(self, scope: str, vector: np.ndarray) -> CacheHit | None:
        """Return the most similar live entry of the scope (brute force: a scope holds a few hundred)."""
        keys, matrix = self._matrix(scope)
        if not keys:
            return None
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        best = int(np.argmax(scores))
        hit = self.get_exact(scope, keys[best])
        if hit is None:
            return None
        return CacheHit(answer=hit.answer, signature=hit.signature, score=float(scores[best]), how="semantic")

    @abstractmethod
    def put(self, scope: str, question: str, vector: np.ndarray, answer: str) -> None:
        """Store an answer under the question's key and signature (not its text), evicting the oldest past the cap."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every entry."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    @abstractmethod
    def entries(self) -> Iterator[tuple[str, str, str, str]]:
        """Yield every entry as (scope, key, question, answer); a full pass (privacy scans, exports).

        `question` is always "": only a hash of the question is stored (`question_key`).
        """

    @abstractmethod
    def _delete(self, entries: list[tuple[str, str]]) -> int:
        """Delete these (scope, key) entries; return how many existed."""

    def entries_for(self, questions: Iterable[str]) -> list[dict[str, str]]:
        """Return the entries (in any scope) whose question is one of these (a student's export)."""
        asked = {question_key(q): q for q in questions}  # the cache holds only hashes: the student's own text
        return [{"scope": scope, "question": asked[key], "answer": a} for scope, key, _q, a in self.entries()
                if key in asked]

    def forget_questions(self, questions: Iterable[str]) -> int:
        """Delete the entries (in any scope) whose question is one of these (a student's erasure)."""
        keys = {question_key(q) for q in questions}
        return self._delete([(scope, key) for scope, key, _q, _a in self.entries() if key in keys]) if keys else 0

    def find_texts(self, needles: Iterable[str]) -> dict[str, str]:
        """Return, per needle found in any question or answer, the scope it was found in."""
        wanted, found = list(needles), {}
        for scope, _key, question, answer in self.entries():
            for needle in wanted:
                if needle not in found and (needle in question or needle in answer):
                    found[needle] = scope
        return found

    def lookup(self, scope: str, question: str, vector: Callable[[], np.ndarray]) -> CacheHit | None:
        """Return a hit: exact first (no embedding needed), then the nearest entry above the threshold
        whose question had the same math in it; a miss when the store is unreachable."""
        try:
            exact = self.get_exact(scope, question_key(question))
            if exact is not None:
                return exact
            near = self.nearest(scope, vector())
        except self.unavailable as exc:
            log.warning("semantic cache unavailable, treated as a miss: %s", type(exc).__name__)
            return None
        if near is None or near.score < self.threshold or near.signature != math_signature(question):
            return None
        return near

    def remember(self, scope: str, question: str, vector: np.ndarray, answer: str) -> bool:
        """Store an answer for other students unless it may identify the asker; return whether it was stored."""
        if may_identify(question, answer):
            return False
        try:
            self.put(scope, question, vector, answer)
        except self.unavailable as exc:
            log.warning("semantic cache unavailable, answer not stored: %s", type(exc).__name__)
            return False
        return True

    def _expired(self, created: float) -> bool:
        return time.time() - created > self.ttl_s

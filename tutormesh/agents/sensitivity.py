"""The cultural-sensitivity check: stereotypes and slurs about groups, in English, Hindi and Spanish.

A curated lexicon plus rules, not a model: every maintained toxicity classifier on PyPI either
downloads its weights at run time (detoxify, the Hugging Face ones) or only knows profanity
(alt-profanity-check), and "Women are naturally worse at engineering" contains no profanity.

A sentence is a stereotype when a group (a group noun, or a modifier next to a people noun:
"Indian students") is followed, within a few words, by an attribute: a negative one ("bad at",
"lazy", "can't learn"), an ability claim ("good at"), or a weak trait ("emotional") together with a
generaliser ("always", "by nature", the Hindi habitual "होती हैं"). Negation flips an attribute
("not bad at" is fine, "not good at" is not); an inclusive comparison ("as good as", "equally",
"can be") clears it; so does a frame that refutes or reports the claim ("It is a myth that ...",
"In 1900 people believed that ..."). Slurs are rejected wherever they appear. The lexicons are data
(data/sensitivity/<language>.yaml); docs/sensitivity.md has the method and the measured figures.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

LEXICONS = Path(__file__).resolve().parents[1] / "data" / "sensitivity"
WINDOW = 10  # words between the group and its attribute ("Indian students are, sadly, always bad at ...")
NEAR = 3  # a negation this close before the attribute negates it ("are not worse"; not "never listen and are bad")
AFTER = 3  # words after the attribute still read for a negation or an inclusive cue (Hindi puts नहीं there)
_WORD = re.compile(r"[\w\u0900-\u0963\u0966-\u097f'-]+")
_SENTENCE = re.compile(r"[.!?;।\n]+")
_DEMONSTRATIVE = ("that", "this", "such", "these", "those", "eso", "esto", "esa", "esta", "यह", "ये", "ऐसा", "ऐसी")
Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """Why a sentence was flagged: `category` is "stereotype" or "slur"."""

    category: Literal["stereotype", "slur"]
    language: str
    matched: str
    sentence: str


def normalise(text: str) -> str:
    """Lower-case and fold what spellings vary in: Latin accents, the nukta, chandrabindu, curly quotes."""
    text = unicodedata.normalize("NFD", text.lower().replace("’", "'").replace("‘", "'"))
    text = re.sub(r"[\u0300-\u036f\u093c]", "", text).replace("\u0901", "\u0902")
    return unicodedata.normalize("NFC", text)


def words(text: str) -> list[str]:
    """Split normalised text into words (Devanagari vowel signs stay inside their word)."""
    return [w.strip("'-") for w in _WORD.findall(normalise(text)) if w.strip("'-")]


@dataclass(frozen=True)
class Lexicon:
    """One language's phrase lists, each phrase a tuple of normalised words (a final "*" is a stem)."""

    language: str
    groups: tuple[Phrase, ...]
    modifiers: tuple[Phrase, ...]
    people: tuple[Phrase, ...]
    relative: tuple[Phrase, ...]
    negative: tuple[Phrase, ...]
    positive: tuple[Phrase, ...]
    weak: tuple[Phrase, ...]
    generalisers: tuple[Phrase, ...]
    negations: tuple[Phrase, ...]
    equality: tuple[Phrase, ...]
    debunk: tuple[Phrase, ...]
    reported: tuple[Phrase, ...]
    slurs: tuple[Phrase, ...]
    equal_pairs: tuple[Phrase, ...] = ()
    relative_before: tuple[Phrase, ...] = ()
    negation_after: bool = False


def _phrases(items: list[str]) -> tuple[Phrase, ...]:
    found = {tuple(words(item.replace("*", "STEMMARK"))) for item in items}
    return tuple(sorted((tuple(w.replace("stemmark", "*") for w in p) for p in found if p), key=len, reverse=True))


def parse_lexicon(raw: dict[str, object]) -> Lexicon:
    """Build a lexicon from a YAML mapping; inability marker x verb pairs become negative phrases."""
    def listed(key: str) -> list[str]:
        value = raw.get(key) or []
        if not isinstance(value, list):
            raise ValueError(f"sensitivity lexicon {raw.get('language')}: {key} must be a list")
        return [str(v) for v in value]

    inability = raw.get("inability") or {}
    if not isinstance(inability, dict):
        raise ValueError(f"sensitivity lexicon {raw.get('language')}: inability must map markers and verbs")
    markers, verbs = inability.get("markers") or [], inability.get("verbs") or []
    made = [f"{m} {v}" for m in markers for v in verbs] + [f"{v} {m}" for m in markers for v in verbs]
    fields = {key: _phrases(listed(key)) for key in ("groups", "modifiers", "people", "relative", "positive", "weak",
                                                    "generalisers", "negations", "equality", "debunk", "reported",
                                                    "slurs", "relative_before")}
    pairs = tuple(tuple(words(p)) for p in listed("equal_pairs"))
    if any(len(p) != 2 for p in pairs):
        raise ValueError(f"sensitivity lexicon {raw.get('language')}: each equal_pairs entry is two words")
    return Lexicon(language=str(raw["language"]), negative=_phrases(listed("negative") + made), equal_pairs=pairs,
                   negation_after=bool(raw.get("negation_after")), **fields)


@lru_cache
def lexicons(folder: Path = LEXICONS) -> tuple[Lexicon, ...]:
    """Load every language's lexicon from `folder` (cached: the files ship with the package)."""
    return tuple(parse_lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))
                 for path in sorted(folder.glob("*.yaml")))


def _at(tokens: list[str], i: int, phrase: Phrase) -> bool:
    if i + len(phrase) > len(tokens):
        return False
    return all(tokens[i + j].startswith(w[:-1]) if w.endswith("*") else tokens[i + j] == w
               for j, w in enumerate(phrase))


def find(tokens: list[str], phrases: tuple[Phrase, ...], start: int = 0,
         stop: int | None = None) -> list[tuple[int, int]]:
    """Spans (begin, end) of the longest phrase starting at each position in [start, stop), left to right."""
    spans, i, stop = [], max(start, 0), len(tokens) if stop is None else min(stop, len(tokens))
    while i < stop:
        hit = next((p for p in phrases if _at(tokens, i, p)), None)
        if hit:
            spans.append((i, i + len(hit)))
            i += len(hit)
        else:
            i += 1
    return spans


def _has(tokens: list[str], phrases: tuple[Phrase, ...], start: int = 0, stop: int | None = None) -> bool:
    return bool(find(tokens, phrases, start, stop))


def _groups(tokens: list[str], lex: Lexicon) -> list[tuple[int, int]]:
    spans = find(tokens, lex.groups)
    for begin, end in find(tokens, lex.modifiers):
        if _has(tokens, lex.people, end, end + 1):  # "indian students"
            spans.append((begin, end + max(len(p) for p in lex.people if _at(tokens, end, p))))
        elif begin > 0 and any(_at(tokens, begin - len(p), p) for p in lex.people if begin >= len(p)):
            spans.append((begin - 1, end))  # "estudiantes indios"
    return sorted(spans)


def _equals(tokens: list[str], lex: Lexicon, a: int, b: int) -> bool:
    """A comparison of equals split around the attribute: "as good at physics as", "tan buenas en física como"."""
    return any(first in tokens[max(a - NEAR, 0):a] and second in tokens[b:b + AFTER + 2]
               for first, second in lex.equal_pairs)


def _stereotype(tokens: list[str], lex: Lexicon) -> str | None:
    """The group and attribute that make this sentence a stereotype, or None."""
    if _has(tokens, lex.debunk) or _has(tokens, lex.reported):
        return None
    general = _has(tokens, lex.generalisers)
    for begin, end in _groups(tokens, lex):
        if _has(tokens, lex.relative, end, end + 1) or (begin and _has(tokens, lex.relative_before, begin - 1, begin)):
            continue  # "girls who practise": a subset, not the group
        for kind, phrases in (("negative", lex.negative), ("positive", lex.positive), ("weak", lex.weak)):
            hits = find(tokens, phrases, end, end + WINDOW)
            if not hits:
                continue
            a, b = hits[0]
            around = [(max(end, a - NEAR), a)] + ([(b, b + AFTER)] if lex.negation_after else [])
            negated = sum(len(find(tokens, lex.negations, x, y)) for x, y in around) % 2 == 1
            if any(_has(tokens, lex.equality, x, y) for x, y in ((begin, a), (b, b + AFTER))) or _equals(tokens, lex,
                                                                                                     a, b):
                break
            if kind == "negative" and negated:
                break
            if kind == "weak" and (negated or not general):
                continue
            return f"{' '.join(tokens[begin:end])} ... {' '.join(tokens[a:b])}"
    return None


def findings(text: str, folder: Path = LEXICONS) -> list[Finding]:
    """Every stereotype or slur in `text`, sentence by sentence, in any language with a lexicon."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    tokenised = [words(s) for s in sentences]
    found = []
    for n, (sentence, tokens) in enumerate(zip(sentences, tokenised, strict=True)):
        for lex in lexicons(folder):
            if slur := find(tokens, lex.slurs):
                found.append(Finding("slur", lex.language, " ".join(tokens[slur[0][0]:slur[0][1]]), sentence))
                continue
            following = tokenised[n + 1] if n + 1 < len(tokenised) else []
            if following and following[0] in _DEMONSTRATIVE and _has(following, lex.debunk):
                continue  # "Girls are bad at maths. That is a myth."
            if matched := _stereotype(tokens, lex):
                found.append(Finding("stereotype", lex.language, matched, sentence))
    return found


def check(text: str) -> Finding | None:
    """Return the first stereotype or slur in `text`, or None when it reads as fine."""
    found = findings(text)
    return found[0] if found else None

"""Translations of the curriculum's student-facing text, stored as data beside the English.

A subject ``math.yaml`` has one sibling per language, ``i18n/math.<lang>.yaml``. Its keys mirror
the English file by stable ids: the subject ``title``, then ``topics.<slug>`` with the topic's
``title``, its ``lesson`` (title, explanation, worked example problem and steps, visual example,
alternative approach)
and ``templates.d<N>`` (``variants.A``/``B``, ``hints`` and misconception ``feedback``, lists in
the English order). Only text with words in it is translated: answers, answer keys and pictures
made only of numbers and symbols are shared by every language. How to add a language: docs/i18n.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tutormesh.tools.curriculum import culture, expr

LANGUAGES = ("en", "hi", "es")
SOURCE_LANGUAGE = "en"
I18N_DIR = "i18n"

# Words that are notation, not language: they stay as written in every translation.
_NOTATION = {
    "sqrt", "cbrt", "abs", "ln", "log", "exp", "sin", "cos", "tan", "pi", "or", "cm", "mm", "km", "kg",
    "mg", "ml", "mA", "kW", "kWh", "Wh", "Hz", "Pa", "kPa", "MPa", "GPa", "kN", "rpm", "mph",
    "mx", "ax", "bx", "ab", "ac", "uv", "xy",  # products of variables
}
_WORD = re.compile(r"[A-Za-z]{2,}")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,/]\d+)*")
_LITERAL = re.compile(r"'([^']*)'")


class TranslationError(ValueError):
    """A language is unknown or a translation file cannot be read."""


@dataclass(frozen=True)
class Problem:
    """One failed translation check, named by file and key."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        """Render as ``i18n/math.hi.yaml: topics.slope.title: missing``."""
        return f"{self.file}: {self.key}: {self.message}"


def check_language(language: str) -> str:
    """Return `language` if the curriculum is available in it; raise TranslationError otherwise."""
    if language not in LANGUAGES:
        raise TranslationError(f"unknown language {language!r}; the curriculum is available in {', '.join(LANGUAGES)}")
    return language


def needs_translation(text: str) -> bool:
    """Say whether a string has words in it (so it must be translated) once slots are removed."""
    bare = re.sub(r"\{[^{}]*\}", " ", text)
    return any(word not in _NOTATION for word in _WORD.findall(bare))


def translatable(raw: dict[str, Any]) -> dict[str, str]:
    """Return every student-facing string of a raw English subject that needs translating, by key."""
    found: dict[str, str] = {}

    def put(key: str, value: Any) -> None:
        if isinstance(value, str) and needs_translation(value):
            found[key] = value

    put("title", raw.get("title"))
    for topic in raw.get("topics") or []:
        base = f"topics.{topic.get('slug')}"
        put(f"{base}.title", topic.get("title"))
        lesson = topic.get("lesson") or {}
        for field in ("title", "explanation", "visual_example", "alternative"):
            put(f"{base}.lesson.{field}", lesson.get(field))
        example = lesson.get("worked_example") or {}
        put(f"{base}.lesson.worked_example.problem", example.get("problem"))
        for k, step in enumerate(example.get("steps") or []):
            put(f"{base}.lesson.worked_example.steps.{k}", step)
        for template in topic.get("templates") or []:
            tbase = f"{base}.templates.d{template.get('difficulty')}"
            for variant, text in (template.get("variants") or {}).items():
                put(f"{tbase}.variants.{variant}", text)
            for k, hint in enumerate(template.get("hints") or []):
                put(f"{tbase}.hints.{k}", hint)
            for k, mis in enumerate(template.get("misconceptions") or []):
                put(f"{tbase}.misconceptions.{k}", mis.get("feedback") if isinstance(mis, dict) else None)
    return found


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings and lists into ``a.b.0.c`` keys."""
    if isinstance(data, dict):
        items: Iterator[tuple[Any, Any]] = iter(data.items())
    elif isinstance(data, list):
        items = iter(enumerate(data))
    else:
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def translation_path(subject_file: Path, language: str) -> Path:
    """Return where the `language` translation of a subject file lives."""
    return subject_file.parent / I18N_DIR / f"{subject_file.stem}.{language}.yaml"


def read_translation(subject_file: Path, language: str) -> dict[str, Any]:
    """Read a subject's translation as flat keys; {} for the source language."""
    if check_language(language) == SOURCE_LANGUAGE:
        return {}
    path = translation_path(subject_file, language)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        raise TranslationError(f"{path}: missing translation file for language {language!r}") from None
    except yaml.YAMLError as exc:
        raise TranslationError(f"{path}: cannot read translation: {exc}") from None
    if not isinstance(raw, dict):
        raise TranslationError(f"{path}: a translation file is a mapping of keys to text")
    return flatten(raw)


def apply(raw: dict[str, Any], strings: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a raw English subject with translated strings put in place of the English.

    Keys that are not translatable in the English are ignored here; `problems` reports them.
    """
    wanted = translatable(raw)
    out: dict[str, Any] = _copy(raw)
    topics = {t.get("slug"): t for t in out.get("topics") or []}
    for key, text in strings.items():
        if key not in wanted or not isinstance(text, str):
            continue
        parts = key.split(".")
        if parts == ["title"]:
            out["title"] = text
            continue
        node: Any = topics[parts[1]]
        path = parts[2:]
        if path[0] == "templates":
            node = next(t for t in node["templates"] if f"d{t.get('difficulty')}" == path[1])
            path = path[2:]
            if path[0] == "misconceptions":
                node["misconceptions"][int(path[1])]["feedback"] = text
                continue
        for part in path[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(path[-1])] = text
        else:
            node[path[-1]] = text
    return out


def problems(raw: dict[str, Any], strings: dict[str, Any], file: str) -> list[Problem]:
    """Check one translation against its English subject; [] when it is complete and consistent.

    Every translatable English string needs a translation, no key may be left over, and each
    translation keeps the English's ``{slot}`` placeholders, numbers and Markdown emphasis.
    """
    english = translatable(raw)
    found: list[Problem] = []
    for key in english.keys() - strings.keys():
        found.append(Problem(file, key, f"missing translation of {_clip(english[key])!r}"))
    for key in strings.keys() - english.keys():
        found.append(Problem(file, key, "no such translatable English string (obsolete or misspelt key)"))
    for key in english.keys() & strings.keys():
        source, text = english[key], strings[key]
        if not isinstance(text, str) or not text.strip():
            found.append(Problem(file, key, "translation must be non-empty text"))
            continue
        found += [Problem(file, key, m) for m in _mismatches(source, text)]
    return sorted(found, key=lambda p: p.key)


def check_directory(directory: Path, languages: tuple[str, ...] = LANGUAGES) -> list[Problem]:
    """Check every subject's translations in a curriculum directory."""
    found: list[Problem] = []
    for subject_file in sorted(directory.glob("*.yaml")):
        raw = yaml.safe_load(subject_file.read_text(encoding="utf-8"))
        for language in languages:
            if language == SOURCE_LANGUAGE:
                continue
            name = str(translation_path(subject_file, language).relative_to(directory))
            try:
                strings = read_translation(subject_file, language)
            except TranslationError as exc:
                found.append(Problem(name, "(file)", str(exc)))
                continue
            found += problems(raw, strings, name)
    return found


def _mismatches(source: str, text: str) -> list[str]:
    out = []
    want = _slot_counts(source)
    got = _slot_counts(text)
    if want != got:
        lost = sorted((want - got).elements())
        added = sorted((got - want).elements())
        detail = "; ".join(p for p in (lost and f"lost {lost}", added and f"added {added}") if p)
        out.append(f"placeholders differ from the English ({detail})")
    bare = re.compile(r"\{[^{}]*\}")
    want_nums = Counter(_NUMBER.findall(bare.sub(" ", source)))
    got_nums = Counter(_NUMBER.findall(bare.sub(" ", text)))
    if want_nums != got_nums:
        out.append(f"numbers differ from the English: {sorted(want_nums.elements())} vs {sorted(got_nums.elements())}")
    for mark in ("**", "`"):
        if source.count(mark) != text.count(mark):
            out.append(f"{mark!r} appears {source.count(mark)} times in the English, {text.count(mark)} here")
    if _bullets(source) != _bullets(text):
        out.append(f"the English has {_bullets(source)} bullet lines, this has {_bullets(text)}")
    return out


def _slot_counts(text: str) -> Counter[str]:
    """Count a text's placeholders; a culture slot (a name, a city) counts once however often it
    appears, since a translation may repeat a name where the English has a pronoun, or drop it."""
    counts = Counter(_slot_shape(p) for p in expr.placeholders(text))
    for slot in culture.SLOTS:
        if counts[slot] > 1:
            counts[slot] = 1
    return counts


def _slot_shape(placeholder: str) -> str:
    """Return a placeholder with its wording literals blanked: ``{'add' if b > 0 else 'subtract'}``
    may be translated, while ``'x'`` in ``terms(a,'x')`` is notation and must stay."""
    return _LITERAL.sub(lambda m: "'…'" if _is_wording(m.group(1)) else m.group(0), placeholder)


def _is_wording(literal: str) -> bool:
    return needs_translation(literal) or any(c.isalpha() and not c.isascii() for c in literal)


def _bullets(text: str) -> int:
    return sum(1 for line in text.splitlines() if re.match(r"\s*([-*]|\d+\.)\s", line))


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _clip(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def skeleton(raw: dict[str, Any]) -> dict[str, Any]:
    """Return the English strings of a subject nested as a translation file, ready to translate."""
    out: dict[str, Any] = {}
    for key, text in translatable(raw).items():
        *parents, last = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = text
    nested: dict[str, Any] = _lists(out)
    return nested


def _lists(node: Any) -> Any:
    """Turn mappings keyed 0..n-1 into lists (hints, steps and misconceptions are lists)."""
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node) and sorted(map(int, node)) == list(range(len(node))):
        return [node[str(k)] for k in range(len(node))]
    return node

"""The grader's own messages in Hindi and Spanish, keyed by the English that the grader writes.

The grading code writes English; `localise` turns a finished English message into another language
by matching it against the templates in messages.yaml. ``{}`` marks a value (math, a quoted piece of the
answer, a count) that is carried over unchanged; ``{L}`` marks a listing such as "x = 1 and x = 2",
whose "and" is translated too. Translations refer to the values in English order as ``{0}``,
``{1}``. A message with no template stays in English (tests/unit/tools/test_grader_i18n.py checks
that every message the grader writes on the eval set has one).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml

LANGUAGES = ("en", "hi", "es")
_AND = {"hi": "और", "es": "y"}
_SLOT = re.compile(r"\{(\d)\}")


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """Return the templates: English -> {"hi": ..., "es": ...} (messages.yaml beside this file)."""
    text = resources.files("tutormesh.tools.grading").joinpath("messages.yaml").read_text(encoding="utf-8")
    loaded: dict[str, dict[str, str]] = yaml.safe_load(text)
    return loaded


def check_language(language: str) -> str:
    """Return `language` if the grader speaks it; raise ValueError otherwise."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; the grader speaks {', '.join(LANGUAGES)}")
    return language


def localise(message: str, language: str) -> str:
    """Return the grader's English `message` in `language` (unchanged when no template matches)."""
    if language == "en" or not message:
        return message
    for pattern, lists, template in _compiled():
        found = pattern.fullmatch(message)
        if found is None:
            continue
        if not lists:
            return template[language]
        values = [_inner(v, language, listing) for v, listing in zip(found.groups(), lists, strict=True)]
        return _fill(template[language], values)
    return message


def translated(message: str) -> bool:
    """Say whether `message` matches a template (so it has Hindi and Spanish versions)."""
    return any(pattern.fullmatch(message) for pattern, _, _ in _compiled())


def _fill(template: str, values: list[str]) -> str:
    return _SLOT.sub(lambda m: values[int(m.group(1))], template)


def _inner(value: str, language: str, listing: bool) -> str:
    if listing:
        return value.replace(" and ", f" {_AND[language]} ")
    return localise(value, language)  # "I couldn't read your answer: <a parse error>"


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[re.Pattern[str], tuple[bool, ...], dict[str, str]]]:
    """Compile templates, most specific (longest fixed text) first."""
    out = []
    for english, template in catalog().items():
        parts = re.split(r"(\{L?\})", english)
        regex = "".join(("(.+?)" if p in ("{}", "{L}") else re.escape(p)) for p in parts)
        lists = tuple(p == "{L}" for p in parts if p in ("{}", "{L}"))
        fixed = sum(len(p) for p in parts if p not in ("{}", "{L}"))
        out.append((fixed, re.compile(regex, re.DOTALL), lists, template))
    out.sort(key=lambda row: -row[0])
    return [(pattern, lists, template) for _, pattern, lists, template in out]

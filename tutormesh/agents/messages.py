"""The message catalog: every reply string the agents show a student, in en, hi and es.

The texts are data (`data/messages/<language>.yaml`, the same keys and placeholders in each); code
names a key and fills its `{placeholders}`. A language without a text falls back to English.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

MESSAGES_DIR = Path(__file__).resolve().parents[1] / "data" / "messages"
LANGUAGES = ("en", "hi", "es")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> dict[str, str]:
    """Return one language's messages (key -> template)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}")
    raw = yaml.safe_load((MESSAGES_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in raw.items()}


def say(key: str, language: str | None = "en", **slots: object) -> str:
    """Render message `key` in `language` (English when unknown), filling `{name}` slots."""
    lang = language if language in LANGUAGES else "en"
    template = catalog(lang).get(key) or catalog("en")[key]
    return PLACEHOLDER.sub(lambda m: str(slots[m.group(1)]) if m.group(1) in slots else m.group(0), template)


def page_text(language: str) -> dict[str, str]:
    """The chat page's own text in `language` (English when unknown): `page_*`, `pace_*`, `no_extra_support`."""
    lang = language if language in LANGUAGES else "en"
    return {key: catalog(lang).get(key) or text for key, text in catalog("en").items()
            if key.startswith(("page_", "pace_")) or key == "no_extra_support"}


def placeholders(template: str) -> set[str]:
    """Return the slot names a template uses."""
    return set(PLACEHOLDER.findall(template))

"""Versioned prompt files: `prompts/<agent>/<name>.v<N>.md`, loaded by `load("explainer/system", version=1)`.

Prompt engineers edit these files (LangGraph Studio shows the node's prompt version in its run
context); code never inlines a prompt. A new wording is a new version, so evals can compare them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=64)
def load(name: str, version: int | None = None) -> str:
    """Return the text of prompt `name` ("agent/name") at `version` (the newest when None)."""
    if not re.fullmatch(r"[a-z0-9_]+/[a-z0-9_]+", name):
        raise ValueError(f"prompt name must look like 'agent/name', got {name!r}")
    if version is None:
        version = max(versions(name), default=0)
    path = PROMPTS_DIR / f"{name}.v{version}.md"
    if not path.is_file():
        raise LookupError(f"no prompt {name!r} version {version} (have {versions(name)})")
    return path.read_text(encoding="utf-8").strip()


def versions(name: str) -> list[int]:
    """Return the versions of a prompt that exist, oldest first."""
    agent, _, base = name.partition("/")
    found = (re.fullmatch(rf"{re.escape(base)}\.v(\d+)\.md", p.name) for p in (PROMPTS_DIR / agent).glob("*.md"))
    return sorted(int(m.group(1)) for m in found if m)


def fill(template: str, **values: str) -> str:
    """Substitute `{name}` placeholders without `str.format`, so braces in values or text stay literal."""
    return re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), template)

"""Per-run settings every graph shares: the clock, the reply language and the prompt choices.

Each graph's own `context.py` extends `RunContext`; the caller (runtime, API, CLI, Studio's form)
sets it per run with `context=`. Nothing here is read from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(kw_only=True)
class RunContext:
    """Settings shared by all five graphs (a subgraph receives its parent's context)."""

    now: str = field(
        default="",
        metadata={"description": "The run's clock as ISO 8601 (e.g. 2026-10-05T10:00:00+00:00); empty = wall time."},
    )
    language: str = field(
        default="",
        metadata={"description": "Reply language: en, hi or es; empty = detected per message and remembered in "
                                 "the student's profile."},
    )
    prompt_versions: dict[str, str] = field(
        default_factory=dict,
        metadata={"description": 'Prompt name -> version, e.g. {"explainer/system": "2"}; a missing name uses the '
                                 "registry default."},
    )
    prompt_overrides: dict[str, str] = field(
        default_factory=dict,
        metadata={"description": "Prompt name -> full prompt text to use instead of the registry's (for trying a "
                                 "wording in Studio before it becomes a version)."},
    )

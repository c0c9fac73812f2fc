"""Admin graph run context: the shared run settings."""

from __future__ import annotations

from dataclasses import dataclass

from tutormesh.graphs.context import RunContext


@dataclass(kw_only=True)
class AdminContext(RunContext):
    """No settings beyond the shared ones (now, language, prompt versions and overrides)."""

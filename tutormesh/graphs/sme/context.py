"""SME graph run context: the clock the semester timeline is read at."""

from __future__ import annotations

from dataclasses import dataclass

from tutormesh.graphs.context import RunContext


@dataclass(kw_only=True)
class SMEContext(RunContext):
    """No settings beyond the shared ones (now, language, prompt versions and overrides)."""

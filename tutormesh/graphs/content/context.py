"""Content graph run context: how hard verification works and what the assignment holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from tutormesh.graphs.context import RunContext
from tutormesh.tools.ingest.verify import SEEDS


@dataclass(kw_only=True)
class ContentContext(RunContext):
    """Per-run choices for turning a deck into a draft."""

    seeds: int = field(default=SEEDS, metadata={"description": "Parameter draws each template is instantiated and "
                                                              "verified at, both variants each (1-64)."})
    assignment_items: int = field(default=10, metadata={"description": "Most templates in the proposed assignment "
                                                                       "(1-50)."})
    due_in_days: int = field(default=7, metadata={"description": "Days the proposed assignment is due in (1-90)."})
    llm_wording: bool = field(default=False, metadata={"description": "Let the configured LLM reword variant B "
                                                                      "(never the key; the result is verified)."})

    def __post_init__(self) -> None:
        """Refuse settings that would verify nothing or propose an invalid assignment."""
        for name, low, high in (("seeds", 1, 64), ("assignment_items", 1, 50), ("due_in_days", 1, 90)):
            if not low <= getattr(self, name) <= high:
                raise ValueError(f"{name} must be {low}..{high}, got {getattr(self, name)!r}")

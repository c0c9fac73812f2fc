"""Content graph run context: how hard verification works and what the assignment holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from tutormesh.graphs.context import RunContext


@dataclass(kw_only=True)
class ContentContext(RunContext):
    """Per-run choices for turning a deck into a draft."""

    seeds: int = field(default=8, metadata={"description": "Parameter draws each template is instantiated and "
                                                           "verified at (both variants each)."})
    assignment_items: int = field(default=10, metadata={"description": "Most templates in the proposed assignment."})
    due_in_days: int = field(default=7, metadata={"description": "Days the proposed assignment is due in."})
    llm_wording: bool = field(default=False, metadata={"description": "Let the configured LLM reword variant B "
                                                                      "(never the key; the result is verified)."})

"""`build_draft`: run the content graph on a parsed deck, reporting progress per stage."""

from __future__ import annotations

from collections.abc import Callable

from tutormesh.core.settings import get_settings
from tutormesh.graphs.content.context import ContentContext
from tutormesh.graphs.content.graph import STAGES, graph
from tutormesh.tools.ingest.draft import Deck, Draft


def build_draft(deck: Deck, subject: str, *, cohort: str | None = None,
                on_progress: Callable[[str, float], None] | None = None,
                context: ContentContext | None = None) -> Draft:
    """Turn a parsed deck into a draft of lessons, verified items and an assignment.

    Args:
        deck: The parsed deck.
        subject: The subject slug the draft's topics and template ids belong to.
        cohort: The class the proposed assignment is for (named in its title).
        on_progress: Called after each stage with its name and the fraction done (1.0 after the last).
        context: Per-run settings; the default verifies at 8 draws, and lets the LLM reword variant B
            only when an endpoint of its own is configured (`TUTORMESH_LLM_BASE_URL`: the packaged
            local model's wording is not good enough to show).

    Returns:
        The draft; nothing in it is visible to students until it is published.
    """
    done = 0
    final: dict[str, object] = {}
    for update in graph.stream({"deck": deck, "subject": subject, "cohort": cohort},
                               context=context or ContentContext(llm_wording=bool(get_settings().llm_base_url)),
                               stream_mode="updates"):
        for stage, values in update.items():
            done += 1
            if isinstance(values, dict):
                final.update(values)
            if on_progress is not None:
                on_progress(stage, done / len(STAGES))
    draft = final.get("draft")
    assert isinstance(draft, Draft), "the content graph ended without a draft"
    return draft

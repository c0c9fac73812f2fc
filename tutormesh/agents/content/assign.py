"""The assignment a draft proposes: verified templates from every lesson, easier to harder."""

from __future__ import annotations

from pathlib import PurePath

from tutormesh.tools.ingest.draft import DraftAssignment, DraftTopic

LIMIT = 10


def propose(topics: list[DraftTopic], file_name: str, cohort: str | None, *, limit: int = LIMIT,
            due_in_days: int = 7) -> DraftAssignment | None:
    """Return up to `limit` template ids covering every lesson at spread levels, ordered easier to harder.

    Each lesson gets the same number of levels, spread over 1..5 (three lessons and a limit of 10:
    levels 1, 3 and 5 of each); the ids are sorted by (difficulty, lesson order). None when no
    lesson survived verification.
    """
    if not topics:
        return None
    quota = max(1, min(5, limit // len(topics)))
    levels = [round(1 + i * 4 / (quota - 1)) for i in range(quota)] if quota > 1 else [3]
    ordered = sorted((level, index, dt.topic.template(level).id) for index, dt in enumerate(topics)
                     for level in levels)[:limit]
    title = f"Practice: {PurePath(file_name).stem}" + (f" ({cohort})" if cohort else "")
    return DraftAssignment(title=title, template_ids=[ident for _, _, ident in ordered], due_in_days=due_in_days)

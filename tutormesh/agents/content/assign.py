"""The assignment a draft proposes: verified templates from every lesson, easier to harder."""

from __future__ import annotations

from pathlib import PurePath

from tutormesh.tools.ingest.draft import DraftAssignment, DraftTopic

LIMIT = 10


def propose(topics: list[DraftTopic], file_name: str, cohort: str | None, *, limit: int = LIMIT,
            due_in_days: int = 7) -> DraftAssignment | None:
    """Return up to `limit` template ids: every lesson, levels rising with the curriculum, easier to harder.

    Slots go round the lessons in order while the level climbs evenly from 1 to 5 (a (lesson,
    level) pair already taken moves to the next free level), so early lessons come in easy and
    later ones harder; the ids are then sorted by (difficulty, lesson order). Six lessons and a
    limit of 10 give levels 1, 1, 1, 2, 2, 3, 3, 4, 4, 5. None when no lesson survived verification.
    """
    if not topics:
        return None
    slots = min(limit, 5 * len(topics))
    taken: set[tuple[int, int]] = set()
    for k in range(slots):
        lesson, level = k % len(topics), 1 + (4 * k) // max(1, slots - 1)
        free = [lv for lv in (*range(level, 6), *range(level - 1, 0, -1)) if (lesson, lv) not in taken]
        if free:
            taken.add((lesson, free[0]))
    ordered = sorted((level, lesson, topics[lesson].topic.template(level).id) for lesson, level in taken)
    title = f"Practice: {PurePath(file_name).stem}" + (f" ({cohort})" if cohort else "")
    return DraftAssignment(title=title, template_ids=[ident for _, _, ident in ordered], due_in_days=due_in_days)

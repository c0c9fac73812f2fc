"""Content graph state: the deck in, each stage's output, and the draft out."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from tutormesh.tools.ingest.draft import Deck, Draft, DraftTopic, DroppedItem
from tutormesh.tools.ingest.lessons import LessonPlan
from tutormesh.tools.ingest.segment import Section
from tutormesh.tools.ingest.templates import Candidate, Recovered


class ContentInput(TypedDict, total=False):
    """What a run starts from (in Studio: the deck as JSON, the subject slug and the cohort)."""

    deck: Deck | dict[str, Any]
    subject: str
    cohort: str | None


class ContentState(ContentInput, total=False):
    """Each node adds its stage; `dropped` collects every rejected exercise or item with its reason."""

    sections: list[Section]
    lessons: list[LessonPlan]
    candidates: list[Candidate]
    recovered: list[Recovered]
    topics: list[DraftTopic]
    checks: dict[str, int]
    dropped: Annotated[list[DroppedItem], operator.add]
    draft: Draft

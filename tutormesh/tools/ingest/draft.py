"""What ingesting a deck produces: the parsed deck and the draft of content an admin reviews.

The parser (deck formats to ``Deck``), the SME content graph (``Deck`` to ``Draft``) and the
review-and-publish flow (``Draft`` to published curriculum) meet at these models; see
docs/content.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tutormesh.tools.curriculum.models import Topic

DeckFormat = Literal["pdf", "pptx", "md", "docx"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(_Frozen):
    """A picture on a slide, kept as its alt text (or caption) since students see text."""

    alt: str
    kind: Literal["picture", "chart", "diagram"] = "picture"


class Slide(_Frozen):
    """One slide (PPTX), page (PDF) or heading-led section (Markdown, DOCX), numbered from 1."""

    number: int = Field(ge=1)
    title: str = ""
    text: str = ""
    notes: str = ""
    figures: list[Figure] = Field(default_factory=list)
    tables: list[str] = Field(default_factory=list, description="Each table as Markdown.")
    formulas: list[str] = Field(default_factory=list)


class Deck(_Frozen):
    """A parsed deck: its slides in order and what the parser could not keep."""

    file_name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    format: DeckFormat
    slides: list[Slide] = Field(min_length=1)
    warnings: list[str] = Field(default_factory=list, description="e.g. 'page 4 has no text (scanned?)'.")


class DraftTopic(_Frozen):
    """One lesson section of the deck as a curriculum topic: lesson plus five levels of templates."""

    topic: Topic
    source_slides: list[int] = Field(min_length=1, description="The slide numbers this topic came from.")
    exercises_recovered: list[int] = Field(
        default_factory=list, description="Slides whose own exercise or worked example became a template."
    )


class DroppedItem(_Frozen):
    """A candidate item verification rejected, kept so the reviewer sees why."""

    source_slide: int | None
    text: str
    reason: str


class DraftAssignment(_Frozen):
    """The assignment proposed for the class: template ids from the draft's topics."""

    title: str
    template_ids: list[str] = Field(min_length=1)
    due_in_days: int = Field(7, ge=1, le=90)


class Draft(_Frozen):
    """Everything one ingest proposes; nothing here is visible to students until published."""

    deck: Deck
    subject: str
    topics: list[DraftTopic]
    dropped: list[DroppedItem] = Field(default_factory=list)
    assignment: DraftAssignment | None = None
    generator: Literal["offline", "llm"] = "offline"

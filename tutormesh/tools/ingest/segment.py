"""Split a parsed deck into lessons: one per section of the deck.

The first rule that finds any section start in a deck decides (docs/content.md, "Generation"):
1. A slide whose title starts with a section cue ("Section 2", "Part B:", "Unit 3 -", "Chapter",
   "Module", "Lesson", "Topic") starts a section.
2. A divider slide (a title and at most a one-line subtitle of ten words that is not a sentence, no
   figure, no exercise) starts a section.
3. A numbered title ("2. Unit conversion", "2.1 Metres") starts a section when its top-level
   number changes.
4. Otherwise a topic shift, a title sharing no content word with the
   current section's titles, starts a section.
Continuation titles ("Example 2", "Practice", "Summary", "Questions", ...) never start one, and
a leading cover or agenda with no exercise joins the first section.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from tutormesh.tools.ingest.draft import Deck, Slide
from tutormesh.tools.ingest.exercises import find_exercises

_CUE = re.compile(r"^\s*(section|part|unit|chapter|module|lesson|topic)\s+([0-9]+|[ivx]+|[a-z])\b\s*[:.)\-–—]?\s*",
                  re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*(\d+)(\.\d+)*[.)]?\s+\S")
_CONTINUATION = re.compile(
    r"^\s*(worked\s+)?(example|examples|exercise|exercises|practice|try|your turn|solution|solutions|answers?|"
    r"summary|recap|review|questions?|quiz|check|key points|takeaways|wrap[- ]up|thank|agenda|outline|contents|"
    r"objectives|learning objectives|overview)\b|\(cont(inued|\.)?\)|\bcont(inued|\.)\s*$",
    re.IGNORECASE)
_AGENDA = re.compile(r"^\s*(agenda|outline|contents|table of contents|overview|objectives|learning objectives|"
                     r"in this (deck|lesson|unit)|today|what you will learn|what we will cover|"
                     r"learning (goals|outcomes))\b", re.IGNORECASE)
_DIVIDER_WORDS = 10
_COVER_WORDS = 15
_STOP = frozenset(
    "a an and the of to in on for with by from at as is are be how what why when using use your our we you it "
    "its into vs intro introduction more part".split())
_WORD = re.compile(r"[a-z][a-z']+")


class Section(BaseModel):
    """One lesson's share of the deck: its title and slide numbers, in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    slides: list[int] = Field(min_length=1)


def words(text: str) -> list[str]:
    """Return the content words of a text, lower-cased, plurals folded."""
    found = (w.strip("'") for w in _WORD.findall(text.lower()))
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in found if w not in _STOP]


def heading(slide: Slide) -> str:
    """Return a slide's title, or its first line when the parser found no title."""
    return slide.title.strip() or next((line.strip() for line in slide.text.splitlines() if line.strip()), "")


def strip_cue(text: str) -> str:
    """Remove a leading section cue ("Section 2:", "Part B -") from a title or line."""
    return _CUE.sub("", text, count=1)


def lesson_title(slide: Slide) -> str:
    """Return the lesson title a section-starting slide gives: its heading without the cue."""
    text = heading(slide)
    stripped = _CUE.sub("", text, count=1).strip() or text
    return re.sub(r"^\s*\d+(\.\d+)*[.)]?\s+", "", stripped).strip() or stripped or f"Slide {slide.number}"


def is_continuation(slide: Slide) -> bool:
    """Say whether a slide's heading marks it as part of the section before it."""
    return bool(_CONTINUATION.search(heading(slide)))


def _has_exercise(slide: Slide) -> bool:
    return bool(find_exercises(slide))


def _is_divider(slide: Slide) -> bool:
    """A title with at most a one-line subtitle (no sentence ending in '.' or ':'), no figure, no exercise."""
    lines = [line.strip(" -*•") for line in slide.text.splitlines() if line.strip(" -*•")]
    subtitle = not lines or (len(lines) == 1 and len(lines[0].split()) <= _DIVIDER_WORDS
                             and not lines[0].endswith((".", ":")))
    return bool(slide.title.strip()) and subtitle and not slide.figures and not slide.tables \
        and not _has_exercise(slide)


def _top_number(slide: Slide) -> int | None:
    match = _NUMBERED.match(heading(slide))
    return int(match.group(1)) if match else None


def _cue_starts(slides: list[Slide]) -> set[int]:
    return {i for i, slide in enumerate(slides) if i and _CUE.match(heading(slide))}


def _numbered_starts(slides: list[Slide]) -> set[int]:
    starts: set[int] = set()
    last: int | None = None
    for index, slide in enumerate(slides):
        number = None if is_continuation(slide) else _top_number(slide)
        if number is None:
            continue
        if last is not None and number != last:
            starts.add(index)
        last = number
    return starts


def _divider_starts(slides: list[Slide]) -> set[int]:
    return {i for i, slide in enumerate(slides) if i and not is_continuation(slide) and _is_divider(slide)}


def _topic_shift_starts(slides: list[Slide]) -> set[int]:
    starts: set[int] = set()
    current: set[str] = set(words(heading(slides[0])))
    for index, slide in enumerate(slides[1:], 1):
        title = set(words(heading(slide)))
        if title and not is_continuation(slide) and not title & current:
            starts.add(index)
            current = set(title)
        else:
            current |= title
    return starts


def _is_preamble(slides: list[Slide]) -> bool:
    """A cover and perhaps an agenda: each slide short or agenda-like, the first no section of its own."""
    def light(slide: Slide) -> bool:
        listed = sum(bool(_CUE.match(line.lstrip("-*• "))) for line in slide.text.splitlines()) >= 2
        return len(slide.text.split()) <= _COVER_WORDS or bool(_AGENDA.search(heading(slide))) or listed

    opens = bool(_CUE.match(heading(slides[0]))) or _top_number(slides[0]) is not None
    return all(light(s) for s in slides) and not opens and not any(_has_exercise(s) for s in slides)


def segment(deck: Deck) -> list[Section]:
    """Split a deck into sections, one per lesson, covering every slide once, in order."""
    slides = deck.slides
    starts = (_cue_starts(slides) or _numbered_starts(slides) or _divider_starts(slides)
              or _topic_shift_starts(slides))
    bounds = sorted({0, *starts})
    groups = [slides[a:b] for a, b in zip(bounds, [*bounds[1:], len(slides)], strict=True)]
    title_slide = groups[0][0]
    if len(groups) > 1 and _is_preamble(groups[0]):
        title_slide = groups[1][0]
        groups = [groups[0] + groups[1], *groups[2:]]
    sections = [Section(title=lesson_title(title_slide), slides=[s.number for s in groups[0]])]
    sections += [Section(title=lesson_title(g[0]), slides=[s.number for s in g]) for g in groups[1:]]
    return sections

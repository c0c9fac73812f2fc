"""What every format parser returns, and the helpers they share (tables, formulas, limits)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tutormesh.core.errors import IngestError
from tutormesh.core.settings import Settings
from tutormesh.tools.ingest.draft import Figure, Slide

# A relation between two sides (=, ->, =>, <=, ...), as written in plain-text equations.
_RELATION = re.compile(r"(=|->|=>|<=|>=|≤|≥|≠|≈|→|⇒)")
_WORD = re.compile(r"[A-Za-z]{4,}")
# Words that stay inside formulas (function names), not prose.
_MATH_WORDS = frozenset({"sqrt", "frac", "total", "sin", "cos", "tan", "log", "exp"})


@dataclass
class Parsed:
    """The slides a parser read and what it could not keep."""

    slides: list[Slide] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class SlideBuilder:
    """Collects one slide's parts while a parser walks the file; `build` makes the frozen model."""

    number: int
    title: str = ""
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    formulas: list[str] = field(default_factory=list)

    def build(self) -> Slide:
        """Return the slide, its plain-text equations added to its formulas (each once, in order)."""
        text = "\n".join(line for line in self.lines if line.strip())
        formulas = [*self.formulas, *(plain_formula(line) for line in _outside_code(text.splitlines()))]
        return Slide(
            number=self.number,
            title=self.title.strip(),
            text=text,
            notes="\n".join(n for n in self.notes if n.strip()),
            figures=list(dict.fromkeys(self.figures)),  # a tagged picture with the same caption: once
            tables=self.tables,
            formulas=list(dict.fromkeys(f for f in formulas if f)),
        )


def _outside_code(lines: list[str]) -> list[str]:
    """Return the lines that are not inside a fenced code block."""
    kept, fenced = [], False
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return kept


def plain_formula(line: str) -> str:
    """Return the line if it is a stand-alone equation in plain text ("n = m / M"), else "".

    Prose that contains an equation ("Step 1: Subtract 5 from both sides: 3x = 15.") is not one:
    a formula line has a relation and no English word of four letters or more.
    """
    line = line.strip().lstrip("-•* ").rstrip(". ")
    if not line or len(line) > 120 or not _RELATION.search(line):
        return ""
    if any(w.lower() not in _MATH_WORDS for w in _WORD.findall(line)):
        return ""
    return line


def table_markdown(rows: Sequence[Sequence[str]]) -> str:
    """Render rows (the first is the header) as a Markdown pipe table."""
    if not rows:
        return ""
    width = max(len(r) for r in rows)

    def cells(row: Sequence[str]) -> str:
        padded = [" ".join(c.split()).replace("|", "\\|") for c in row] + [""] * (width - len(row))
        return "| " + " | ".join(padded) + " |"

    return "\n".join([cells(rows[0]), "|" + "---|" * width, *(cells(r) for r in rows[1:])])


class Deadline:
    """The parse's time budget, checked between pages, slides or paragraphs (bounded work each)."""

    def __init__(self, settings: Settings) -> None:
        """Start the clock: ``settings.ingest_max_parse_seconds`` from now."""
        self.seconds = settings.ingest_max_parse_seconds
        self._end = time.monotonic() + self.seconds

    def check(self, where: str) -> None:
        """Refuse the deck once its parse has run past the budget."""
        if time.monotonic() > self._end:
            raise IngestError(
                f"reading the deck took longer than {self.seconds:g} s (stopped at {where}); "
                "it is too long or too complex (TUTORMESH_INGEST_MAX_PARSE_SECONDS)"
            )


def check_count(count: int, max_pages: int, unit: str) -> None:
    """Refuse a deck with more pages or slides than the setting allows, before reading them."""
    if count > max_pages:
        raise IngestError(
            f"the deck has {count} {unit}s; at most {max_pages} are accepted (TUTORMESH_INGEST_MAX_PAGES)"
        )

"""Item templates from a lesson's exercises: recognise each one, then write the five levels.

A lesson gets one family (the one most of its exercises belong to; a lesson with no exercise of a
known kind takes one from its formulas or wording). Each level is written from the deck's own
exercise at that level when there is one (its wording and numbers), otherwise from the lesson's
first recognised exercise by the level rules. Exercises of no known family, or of another family
than the lesson's, are reported, never guessed at.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tutormesh.tools.curriculum.models import DIFFICULTIES
from tutormesh.tools.ingest import formulas, linear, units
from tutormesh.tools.ingest.exercises import Exercise
from tutormesh.tools.ingest.family import Family, Match

# Tried in this order: a conversion names two units of one dimension, a formula two quantities.
FAMILIES: dict[str, Family] = {units.NAME: units, formulas.NAME: formulas, linear.NAME: linear}


class Candidate(BaseModel):
    """One level's template on its way to verification, with where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template_id: str
    topic: str
    level: int = Field(ge=1, le=5)
    match: Match
    source: Exercise | None = Field(None, description="The deck's exercise this level was written from.")
    spec: dict[str, Any]
    worded_by: Literal["rules", "llm"] = "rules"


class Recognised(BaseModel):
    """A deck exercise and the family match read from it (None: no family recognised it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exercise: Exercise
    match: Match | None


class Recovered(BaseModel):
    """A deck exercise that became a level's template: its slide, wording and the key at its own numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slide: int
    prompt: str
    template_id: str
    key: str


def recognise(exercise: Exercise) -> Match | None:
    """Return the first family's reading of an exercise's prompt."""
    for family in FAMILIES.values():
        if (found := family.recognise(exercise.prompt)) is not None:
            return found
    return None


def choose_family(found: list[Recognised], lesson_text: str) -> Match | None:
    """Return the lesson's primary match: the first exercise of its most common family, else a seed."""
    counts = Counter(r.match.family for r in found if r.match is not None)
    if counts:
        top = max(counts, key=lambda name: (counts[name], -list(FAMILIES).index(name)))
        return next(r.match for r in found if r.match is not None and r.match.family == top)
    for family in FAMILIES.values():
        if (seeded := family.seed(lesson_text)) is not None:
            return seeded
    return None


def fits(template: Match, exercise: Match) -> bool:
    """Say whether a level's template has the exercise's shape: same form, unknown, quantities and units."""
    def shape(m: Match) -> tuple[str, str, int, dict[str, str]]:
        return m.family, m.form, m.level, {k: v for k, v in m.slots.items() if k != "words"}

    return shape(template) == shape(exercise)


def candidates(subject: str, topic: str, primary: Match, found: list[Recognised]) -> list[Candidate]:
    """Write the five levels for a lesson (wording, params and hints; keys come next).

    At a level with deck exercises, the template takes the shape most of them share, written from
    the first of those; other levels follow the rule from the lesson's primary match.
    """
    family = FAMILIES[primary.family]
    own = [r for r in found if r.match is not None and r.match.family == primary.family]
    out = []
    for level in DIFFICULTIES:
        at_level = [r for r in own if r.match is not None and r.match.level == level]
        best = max(at_level, key=lambda r: sum(fits(r.match, o.match) for o in at_level if r.match and o.match),
                   default=None)
        match = best.match if best is not None and best.match is not None else primary
        out.append(Candidate(template_id=f"{subject}.{topic}.d{level}", topic=topic, level=level, match=match,
                             source=best.exercise if best is not None else None,
                             spec=family.template(match, level)))
    return out


def with_key(candidate: Candidate) -> Candidate:
    """Add the family's answer key and misconceptions to a candidate."""
    keyed = FAMILIES[candidate.match.family].key(candidate.match, candidate.level)
    return candidate.model_copy(update={"spec": {**candidate.spec, **keyed}})

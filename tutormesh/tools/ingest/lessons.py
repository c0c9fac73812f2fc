"""A deck section as a curriculum topic: the lesson text, its worked examples, figures and keywords.

The explanation is the section's own text (slide by slide, tables and formulas kept); the first
worked example the deck shows is the lesson's, later ones stay in the explanation as numbered
steps; figures are kept as their alt text in the visual example. BKT parameters start at the
middle of the shipped curriculum's (p_init 0.3, p_learn 0.2, p_slip 0.1, p_guess 0.15).
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, ConfigDict, Field

from tutormesh.tools.curriculum.models import BKTParams, Item, ItemTemplate, Lesson, Topic, WorkedExample, numbered
from tutormesh.tools.ingest.draft import Deck
from tutormesh.tools.ingest.exercises import Exercise, find_exercises
from tutormesh.tools.ingest.family import Match
from tutormesh.tools.ingest.segment import Section, words
from tutormesh.tools.ingest.templates import Recognised, choose_family, recognise

BKT_DEFAULT = BKTParams(p_init=0.3, p_learn=0.2, p_slip=0.1, p_guess=0.15)
_KEYWORDS = 8
_DECK_WORDS = frozenset("step answer exercise problem example worked check lesson slide summary both side".split())


class LessonPlan(BaseModel):
    """One section on its way to a topic: its text, exercises and the family its items come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str
    title: str
    slides: list[int] = Field(min_length=1)
    explanation: str
    visual: str
    keywords: list[str] = Field(min_length=1)
    found: list[Recognised]
    primary: Match | None


def slugify(title: str) -> str:
    """Return a topic slug for a title ("Ohm's law" -> "ohms-law")."""
    return "-".join(re.findall(r"[a-z0-9]+", title.lower().replace("'", ""))) or "lesson"


def _keywords(title: str, text: str) -> list[str]:
    counts = Counter(w for w in words(text) if len(w) > 3 and w not in _DECK_WORDS)
    top = [w for w, _ in counts.most_common(_KEYWORDS)]
    return list(dict.fromkeys([title.lower(), *top]))


def plan(deck: Deck, sections: list[Section]) -> list[LessonPlan]:
    """Read each section's text, figures and exercises, and pick the family its items come from."""
    slides = {s.number: s for s in deck.slides}
    used: set[str] = set()
    plans = []
    for section in sections:
        parts, figures, found = [], [], []
        for number in section.slides:
            slide = slides[number]
            body = "\n".join([f"### {slide.title}" if slide.title else "", slide.text.strip(), *slide.tables,
                              *(f"`{f}`" for f in slide.formulas)]).strip()
            parts.append(body)
            figures += [f"[{fig.kind}] {fig.alt}" for fig in slide.figures if fig.alt.strip()]
            found += [Recognised(exercise=e, match=recognise(e)) for e in find_exercises(slide)]
        text = "\n\n".join(p for p in parts if p)
        slug = base = slugify(section.title)
        for n in range(2, len(sections) + 2):
            if slug not in used:
                break
            slug = f"{base}-{n}"
        used.add(slug)
        plans.append(LessonPlan(slug=slug, title=section.title, slides=section.slides, explanation=text,
                                visual="\n".join(figures), keywords=_keywords(section.title, text), found=found,
                                primary=choose_family(found, text)))
    return plans


def _worked(exercise: Exercise) -> WorkedExample:
    return WorkedExample(problem=exercise.prompt, steps=exercise.steps, answer=exercise.answer or exercise.steps[-1])


def _from_item(item: Item) -> WorkedExample:
    return WorkedExample(problem=item.prompt, steps=item.hints, answer=item.answer)


def topic(lesson: LessonPlan, week: int, subject: str, templates: list[ItemTemplate]) -> Topic:
    """Assemble the curriculum topic: the deck's first worked example, else one worked from level 2."""
    worked = [r.exercise for r in lesson.found if r.exercise.worked]
    example = _worked(worked[0]) if worked else _from_item(templates[1].instantiate(0, "A"))
    more = [f"**Worked example:** {e.prompt}\n{numbered(e.steps)}" + (f"\nAnswer: {e.answer}" if e.answer else "")
            for e in worked[1:]]
    explanation = "\n\n".join([lesson.explanation, *more]).strip() or lesson.title
    return Topic(slug=lesson.slug, title=lesson.title, subject=subject, week=week, keywords=lesson.keywords,
                 skill=lesson.slug, bkt=BKT_DEFAULT,
                 lesson=Lesson(title=lesson.title, explanation=explanation, worked_example=example,
                               visual_example=lesson.visual),
                 templates=templates)

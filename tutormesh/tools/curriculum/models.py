"""Curriculum schema: subjects, topics, lessons and parameterised item templates."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tutormesh.tools.curriculum import culture, expr

Variant = Literal["A", "B"]
AnswerForm = Literal["any", "factored"]
VARIANTS: tuple[Variant, ...] = ("A", "B")
DIFFICULTIES = (1, 2, 3, 4, 5)
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_MAX_DRAWS = 500
_DRAW_CACHE_SIZE = 50_000
# Drawn values by (template identity, seed): rebuilding an item from its id should not redraw.
_DRAWS: dict[tuple[int, int], tuple[ItemTemplate, dict[str, expr.Value]]] = {}
# Built items by (template identity, seed, variant, culture): every practice turn rebuilds the item it grades
# and builds the next one, and rendering costs more than grading (measured). Items are frozen.
_ITEMS: dict[tuple[int, int, str, str], tuple[ItemTemplate, Item]] = {}
_ITEM_CACHE_SIZE = 10_000


class TemplateError(ValueError):
    """A template could not produce a valid instance."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BKTParams(_Frozen):
    """Bayesian Knowledge Tracing parameters for one skill."""

    p_init: float = Field(gt=0, lt=1)
    p_learn: float = Field(gt=0, lt=1)
    p_slip: float = Field(gt=0, lt=0.5)
    p_guess: float = Field(gt=0, lt=0.5)


def numbered(lines: Sequence[str], indent: str = "") -> str:
    """Lines as a numbered list, one per line: the one step-list format of every worked example."""
    return "\n".join(f"{indent}{n}. {line}" for n, line in enumerate(lines, 1))


class WorkedExample(_Frozen):
    """A solved problem, step by step."""

    problem: str
    steps: list[str] = Field(min_length=1)
    answer: str

    def step_list(self, indent: str = "") -> str:
        """The steps as a numbered list (agents/rendering.py builds every variant on it)."""
        return numbered(self.steps, indent)


class Lesson(_Frozen):
    """A short lesson: markdown explanation, one worked example, one text-drawn visual."""

    title: str
    explanation: str
    worked_example: WorkedExample
    visual_example: str = Field(description="An ASCII picture (balance, number line...) for visual learners.")
    alternative: str | None = Field(default=None, description="A different way to reach the same answer, for "
                                    "re-teaching after most of a class missed a question (agents/reteach.py).")


class Misconception(_Frozen):
    """A typical wrong answer and the feedback it deserves."""

    answer: str
    feedback: str


class MisconceptionTemplate(_Frozen):
    """A misconception whose answer and feedback are templates; ``when`` limits it to some params."""

    answer: str
    feedback: str
    when: str | None = None


class ParamSpec(_Frozen):
    """How one parameter is drawn: an inclusive integer ``range`` (minus ``exclude``) or a ``choice``.

    Range bounds and exclusions may be expressions over earlier parameters.
    """

    range: tuple[int | str, int | str] | None = None
    exclude: list[int | str] = Field(default_factory=list)
    choice: list[int | str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> ParamSpec:
        if (self.range is None) == (self.choice is None):
            raise ValueError("give exactly one of 'range' or 'choice'")
        if self.choice is not None and self.exclude:
            raise ValueError("'exclude' only applies to 'range'")
        return self

    def expressions(self) -> list[str]:
        """Return the expressions this spec depends on."""
        bounds = list(self.range or ()) + list(self.exclude)
        return [b for b in bounds if isinstance(b, str)]

    def draw(self, rng: random.Random, env: dict[str, expr.Value]) -> expr.Value:
        """Draw one value; raise _Redraw when the range is empty for these earlier params."""
        if self.choice is not None:
            picked = rng.choice(self.choice)
            return Fraction(picked) if isinstance(picked, int) else picked
        assert self.range is not None
        low, high = (_as_int(b, env) for b in self.range)
        if not self.exclude:
            if low > high:
                raise _Redraw
            return Fraction(rng.randint(low, high))
        excluded = {_as_int(e, env) for e in self.exclude}
        options = [v for v in range(low, high + 1) if v not in excluded]
        if not options:
            raise _Redraw
        return Fraction(rng.choice(options))


class Item(_Frozen):
    """One concrete practice item, rebuilt from its id alone."""

    id: str
    template_id: str
    topic: str
    skill: str
    difficulty: int
    variant: Variant
    culture: str = Field(description="The cultural context its names and money were filled from.")
    prompt: str
    answer: str
    form: AnswerForm = "any"
    hints: list[str]
    misconceptions: list[Misconception]


class ItemTemplate(_Frozen):
    """A parameterised practice item at one difficulty, with A/B presentation variants."""

    id: str
    subject: str
    topic: str
    skill: str
    language: str = Field("en", description="The language of its text; picks the default cultural context.")
    difficulty: int = Field(ge=1, le=5)
    params: dict[str, ParamSpec]
    derived: dict[str, str] = Field(default_factory=dict)
    require: list[str] = Field(default_factory=list)
    variants: dict[Variant, str]
    answer: str
    form: AnswerForm = Field("any", description="'factored' when an expanded equivalent answer is wrong.")
    hints: list[str] = Field(min_length=2, max_length=4)
    misconceptions: list[MisconceptionTemplate] = Field(min_length=1)

    @field_validator("variants")
    @classmethod
    def _both_variants(cls, value: dict[Variant, str]) -> dict[Variant, str]:
        if set(value) != set(VARIANTS):
            raise ValueError("need exactly the variants A and B")
        return value

    @model_validator(mode="after")
    def _expressions_resolve(self) -> ItemTemplate:
        known: list[str] = []
        if taken := sorted((set(self.params) | set(self.derived)) & {*culture.SLOTS, expr.MONEY_PATTERN}):
            raise ValueError(f"{', '.join(taken)}: reserved for cultural context slots")
        try:
            for name, spec in self.params.items():
                for source in spec.expressions():
                    expr.check(source, known, expr.NUMERIC_FUNCTIONS)
                known.append(name)
            for name, source in self.derived.items():
                expr.check(source, known, expr.NUMERIC_FUNCTIONS)
                known.append(name)
            for source in self.require:
                expr.check(source, known, expr.NUMERIC_FUNCTIONS)
            texts = [*self.variants.values(), self.answer, *self.hints]
            for mis in self.misconceptions:
                texts += [mis.answer, mis.feedback]
                if mis.when:
                    expr.check(mis.when, known, expr.NUMERIC_FUNCTIONS)
            for text in texts:
                for source in expr.placeholders(text):
                    expr.check(source, [*known, *culture.SLOTS], expr.FORMAT_FUNCTIONS)
        except expr.ExprError as exc:
            raise ValueError(str(exc)) from None
        return self

    def values(self, seed: int) -> dict[str, expr.Value]:
        """Draw the params and derived values for a seed (shared by both variants)."""
        key = (id(self), seed)
        if (hit := _DRAWS.get(key)) is not None:
            return dict(hit[1])
        rng = random.Random(f"{self.id}#{seed}")
        for _ in range(_MAX_DRAWS):
            try:
                env = self._draw_once(rng)
            except _Redraw:
                continue
            if len(_DRAWS) >= _DRAW_CACHE_SIZE:
                _DRAWS.clear()
            _DRAWS[key] = (self, env)  # holding self keeps id(self) from being reused while cached
            return dict(env)
        raise TemplateError(f"{self.id}: no valid parameters after {_MAX_DRAWS} draws (seed {seed})")

    def instantiate(self, seed: int, variant: Variant = "A", culture_slug: str | None = None) -> Item:
        """Build the item for (seed, variant); the same inputs always give the same item.

        Args:
            seed: Draws the numbers (and, with the template id, the names the context shows).
            variant: "A" or "B" wording of the same numbers.
            culture_slug: The cultural context its slots are filled from; None: the default for
                the template's language. Only text changes: the answer is the same in every context.
        """
        if variant not in VARIANTS:
            raise ValueError(f"variant must be 'A' or 'B', got {variant!r}")
        slug = culture_slug or culture.resolve(None, self.language)
        key = (id(self), seed, variant, slug)
        if (hit := _ITEMS.get(key)) is not None:
            return hit[1]
        if len(_ITEMS) >= _ITEM_CACHE_SIZE:
            _ITEMS.clear()
        item = self._build(seed, variant, slug)
        _ITEMS[key] = (self, item)  # holding self keeps id(self) from being reused while cached
        return item

    def _build(self, seed: int, variant: Variant, slug: str) -> Item:
        # Slots are keyed by template and seed, not variant: A and B differ only in wording.
        env = {**culture.get(slug).slots(f"{self.id}.{seed}", self.language), **self.values(seed)}
        return Item(
            id=f"{self.id}.{variant}.{seed}",
            template_id=self.id,
            topic=self.topic,
            skill=self.skill,
            difficulty=self.difficulty,
            variant=variant,
            culture=slug,
            prompt=expr.render(self.variants[variant], env),
            answer=expr.render(self.answer, env),
            form=self.form,
            hints=[expr.render(h, env) for h in self.hints],
            misconceptions=self._misconceptions(env),
        )

    def _draw_once(self, rng: random.Random) -> dict[str, expr.Value]:
        env: dict[str, expr.Value] = {}
        try:
            for name, spec in self.params.items():
                env[name] = spec.draw(rng, env)
            for name, source in self.derived.items():
                env[name] = expr.evaluate(source, env)
            if not all(expr.evaluate(source, env) is True for source in self.require):
                raise _Redraw
            answer = _norm(expr.render(self.answer, env))
            # Only the answers: feedback may name people, and the draw is the same in every context.
            wrong = [_norm(expr.render(m.answer, env)) for m in self.misconceptions
                     if not m.when or expr.evaluate(m.when, env) is True]
        except ZeroDivisionError:
            raise _Redraw from None
        if answer in wrong:
            raise _Redraw  # a "wrong" answer that is right would teach the wrong lesson
        return env

    def _misconceptions(self, env: dict[str, expr.Value]) -> list[Misconception]:
        seen: set[str] = set()
        out: list[Misconception] = []
        for mis in self.misconceptions:
            if mis.when and expr.evaluate(mis.when, env) is not True:
                continue
            answer = expr.render(mis.answer, env)
            if _norm(answer) not in seen:
                seen.add(_norm(answer))
                out.append(Misconception(answer=answer, feedback=expr.render(mis.feedback, env)))
        return out


class Topic(_Frozen):
    """One topic of a subject: when it is taught, how to find it, its lesson and templates."""

    slug: str = Field(pattern=SLUG)
    title: str
    subject: str
    language: str = "en"
    week: int = Field(ge=1)
    keywords: list[str] = Field(min_length=1)
    prerequisites: list[str] = Field(default_factory=list, description="Topic slugs to master first; empty: the "
                                     "topic before this one in the unit.")
    skill: str = Field(pattern=SLUG)
    bkt: BKTParams
    lesson: Lesson
    templates: list[ItemTemplate] = Field(min_length=5, max_length=5)

    @model_validator(mode="after")
    def _all_difficulties(self) -> Topic:
        found = [t.difficulty for t in self.templates]
        if found != list(DIFFICULTIES):
            raise ValueError(f"templates must have difficulties 1..5 in order, got {found}")
        return self

    def template(self, difficulty: int) -> ItemTemplate:
        """Return the template at a difficulty (1 easiest .. 5 hardest)."""
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be 1..5, got {difficulty!r}")
        return self.templates[difficulty - 1]


class Subject(_Frozen):
    """A subject's unit: its semester and its topics in teaching order."""

    slug: str = Field(pattern=SLUG)
    title: str
    language: str = Field("en", description="The language of its text (set by the loader).")
    semester_weeks: int = Field(ge=1, le=52)
    topics: list[Topic] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _fill_ids(cls, data: Any) -> Any:
        # Topics and templates carry their parents' slugs so each stands alone; the YAML stays DRY.
        if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
            return data
        subject, language = data.get("slug"), data.get("language", "en")
        topics = []
        for raw in data["topics"]:
            if isinstance(raw, dict):
                raw = {**raw, "subject": subject, "language": language, "skill": raw.get("skill", raw.get("slug"))}
                if isinstance(raw.get("templates"), list):
                    raw["templates"] = [_fill_template(t, subject, raw) for t in raw["templates"]]
            topics.append(raw)
        return {**data, "topics": topics}

    @model_validator(mode="after")
    def _weeks_in_order(self) -> Subject:
        weeks = [t.week for t in self.topics]
        if weeks != sorted(weeks) or weeks[-1] > self.semester_weeks:
            raise ValueError(f"topic weeks must be non-decreasing within 1..{self.semester_weeks}: {weeks}")
        slugs = [t.slug for t in self.topics]
        if dupes := sorted({s for s in slugs if slugs.count(s) > 1}):
            raise ValueError(f"duplicate topic slugs: {dupes}")
        return self


class _Redraw(Exception):
    """These params are invalid; draw again."""


def _fill_template(raw: Any, subject: Any, topic: dict[str, Any]) -> Any:
    if not isinstance(raw, dict):
        return raw
    ident = f"{subject}.{topic.get('slug')}.d{raw.get('difficulty')}"
    return {**raw, "id": ident, "subject": subject, "topic": topic.get("slug"), "skill": topic.get("skill"),
            "language": topic.get("language")}


def _as_int(source: int | str, env: dict[str, expr.Value]) -> int:
    value = Fraction(source) if isinstance(source, int) else expr.evaluate(source, env)
    if not isinstance(value, Fraction) or value.denominator != 1:
        raise TemplateError(f"range bound {source!r} is not an integer")
    return value.numerator


_NUMBER = re.compile(r"-?\d+(\.\d+|/[1-9]\d*)?")


def _norm(text: str) -> str:
    """Canonical text of an answer, so "4.5" matches "9/2" and "x = 1 or x = 2" its reverse.

    A cheap guard against a misconception that is really right; the grader test is the authority.
    """
    parts = []
    for raw in re.split(r"\s+or\s+|,", text.lower()):
        part = re.sub(r"\s+", "", raw)
        name, eq, value = part.rpartition("=") if "=" in part else ("", "", part)
        if _NUMBER.fullmatch(value):
            value = str(Fraction(value))
        parts.append(name + eq + value)
    return "|".join(sorted(parts))

"""Cultural contexts: the names, money, foods, places and sports that items and lessons show.

Item templates and lessons write culture slots (``{person}``, ``{person2}``, ``{city}``,
``{food}``, ``{sport}``, ``{currency}``, ``{subunit}`` and ``{money(x)}``) instead of "Kim" or "$".
Each context is data (``data/culture/<slug>.yaml``); a slot is filled from it when the text is
rendered, chosen by a hash of the item (or topic) so the same item always shows the same names.
Only text changes: answer keys stay numbers, so grading never depends on the context.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tutormesh.tools.curriculum import expr

CULTURE_DIR = Path(__file__).resolve().parents[2] / "data" / "culture"
# The context a student gets when their profile names none (or one we do not know).
DEFAULT_BY_LANGUAGE = {"en": "us", "hi": "india", "es": "latam"}
FALLBACK = "us"
# Slot names a template's text may use besides its own params (money() is a function).
SLOTS = ("person", "person2", "city", "food", "sport", "currency", "subunit")

Localized = str | dict[str, str]


class CultureError(ValueError):
    """A cultural context file is missing or malformed."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Currency(_Frozen):
    """How amounts of money are written in a context."""

    symbol: str = Field(min_length=1)
    pattern: str = Field(description="How an amount is shown, e.g. '₹{amount}' or '{amount} €'.")
    name: Localized = Field(description="The plural name (rupees, dollars), per language.")
    subunit: Localized = Field(description="The hundredth (paise, cents), per language.")

    @field_validator("pattern")
    @classmethod
    def _has_amount(cls, value: str) -> str:
        if value.count("{amount}") != 1:
            raise ValueError("pattern must contain '{amount}' exactly once")
        return value


class Culture(_Frozen):
    """One cultural context: its currency and the pools slots are drawn from."""

    slug: str = Field(pattern=r"^[a-z]+$")
    title: str
    aliases: list[str] = Field(default_factory=list)
    currency: Currency
    people: list[Localized] = Field(min_length=2)
    cities: list[Localized] = Field(min_length=1)
    foods: list[Localized] = Field(min_length=1)
    sports: list[Localized] = Field(min_length=1)

    def slots(self, key: str, language: str) -> dict[str, expr.Value]:
        """Return the slot values for one item or lesson; the same key always gives the same values.

        Args:
            key: What the choice is tied to: a template id and seed, or a topic slug.
            language: The language the text is in (names and foods are spelt per language).
        """
        rng = random.Random(f"{self.slug}|{key}")
        first, second = rng.sample(range(len(self.people)), 2)
        return {
            "person": local(self.people[first], language),
            "person2": local(self.people[second], language),
            "city": local(rng.choice(self.cities), language),
            "food": local(rng.choice(self.foods), language),
            "sport": local(rng.choice(self.sports), language),
            "currency": local(self.currency.name, language),
            "subunit": local(self.currency.subunit, language),
            expr.MONEY_PATTERN: self.currency.pattern,
        }


def local(value: Localized, language: str) -> str:
    """Return a value in `language`, falling back to the English spelling."""
    if isinstance(value, str):
        return value
    return value.get(language) or value["en"]


@lru_cache
def cultures(directory: Path = CULTURE_DIR) -> dict[str, Culture]:
    """Load every context in the culture directory, by slug (cached)."""
    found: dict[str, Culture] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            culture = Culture.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise CultureError(f"{path}: invalid cultural context:\n{exc}") from None
        if culture.slug != path.stem:
            raise CultureError(f"{path}: slug {culture.slug!r} must match the file name")
        found[culture.slug] = culture
    if FALLBACK not in found:
        raise CultureError(f"{directory}: the fallback context {FALLBACK!r} is missing")
    return found


def get(slug: str) -> Culture:
    """Return a context by slug; raise CultureError naming the known ones otherwise."""
    known = cultures()
    if slug not in known:
        raise CultureError(f"unknown cultural context {slug!r}; known: {', '.join(sorted(known))}")
    return known[slug]


def resolve(cultural_context: str | None, language: str) -> str:
    """Pick the context slug for a student: their profile's if we know it, else their language's.

    The profile value may be a slug ("india") or an alias ("IN", "Mexico"); anything else, or
    nothing, falls back to the language's default (hi -> india, es -> latam, en -> us).
    """
    wanted = _norm(cultural_context or "")
    if wanted:
        for culture in cultures().values():
            if wanted == culture.slug or wanted in {_norm(a) for a in culture.aliases}:
                return culture.slug
    return DEFAULT_BY_LANGUAGE.get(language, FALLBACK)


def fill(text: str, values: dict[str, expr.Value]) -> str:
    """Fill the culture slots in free text (lessons), leaving any other braces as they are."""

    def one(match: re.Match[str]) -> str:
        source = match.group(1)
        try:
            names, calls = expr.names_in(source)
        except expr.ExprError:
            return match.group(0)
        if names <= set(SLOTS) and calls <= {"money"} and (names or calls):
            return expr.fmt(expr.evaluate(source, values, formatting=True))
        return match.group(0)

    return _PLACEHOLDER.sub(one, text)


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())

"""What an item family is: a kind of exercise the generator recognises, parameterises and solves.

A family (``linear``, ``units``, ``formula``) does four things, each a rule with no LLM:
``recognise`` finds its kind of problem in a deck's text and reads the deck's own numbers;
``template`` writes the item at one of the five levels (params, wording A/B, hints);
``key`` writes the answer key and the misconceptions a rule names;
``solve`` reads a rendered item's prompt again and solves it independently (sympy), so
verification never trusts the key it checks. Level rules: docs/content.md, "Generation".
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

Spec = dict[str, Any]  # ItemTemplate fields: params, derived, require, variants, hints (+ answer, misconceptions)


class Match(BaseModel):
    """A problem a family recognised: its form, level, numbers and the wording around it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    form: str = Field(description="The family's form, e.g. 'two' (ax + b = c), a law's name or a dimension.")
    level: int = Field(ge=1, le=5, description="The level the family's rules give the deck's own problem.")
    env: dict[str, str] = Field(default_factory=dict, description="The deck's numbers as the params, e.g. a: '3'.")
    before: str = ""
    after: str = ""
    slots: dict[str, str] = Field(default_factory=dict, description="Family data, e.g. the variable or units.")

    def numbers(self) -> dict[str, Fraction]:
        """The deck's numbers as exact fractions."""
        return {name: Fraction(value) for name, value in self.env.items()}


class Family(Protocol):
    """The rules of one family of items (each family is a module with these names)."""

    NAME: str

    def recognise(self, text: str) -> Match | None:
        """Return the problem in a text, or None when this family does not recognise one."""

    def seed(self, text: str) -> Match | None:
        """Return a rules-only match from a lesson's formulas or keywords (no exercise of its own)."""

    def template(self, match: Match, level: int) -> Spec:
        """Return params, derived, require, variants (A and B) and hints for one level."""

    def key(self, match: Match, level: int) -> Spec:
        """Return the answer key and misconceptions for one level."""

    def solve(self, prompt: str, match: Match) -> str | None:
        """Solve a rendered prompt independently; None when it cannot be read back."""


def fraction_text(value: Fraction) -> str:
    """Write a fraction as an env value ('3', '-5/2')."""
    return str(value)


def clean(text: str) -> str:
    """Make deck text safe inside a template: braces would be read as placeholders."""
    return text.replace("{", "(").replace("}", ")").strip()


_WIDEST = 1000  # a deck's number beyond this stays out of the range (drawing lists a range's values)


def widen(low: int, high: int, *values: Fraction) -> list[int]:
    """Widen a default range so the deck's own integer numbers (up to 1000 in size) are inside it."""
    ints = [int(v) for v in values if v.denominator == 1 and abs(v) <= _WIDEST]
    return [min([low, *ints]), max([high, *ints])]

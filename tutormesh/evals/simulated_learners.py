"""Simulated learners with hidden parameters, for the eval that checks adaptation against a fixed sequence.

Each learner is a Bayesian Knowledge Tracing student whose parameters the tutor never sees: per
skill a prior, a learning rate, slip and guess; a preferred content type (one of
`learner_model.CONTENT_TYPES`) that multiplies the learning rate when it was shown before the
item; a pace (seconds per answer); and a habit of asking for hints. It reads only what a student
sees in the graph's state: the open problem and the content types shown since the last answer
(`since_answer`). It answers with the item's answer when right and a real wrong answer (one of the
item's misconceptions) when not. docs/simulated-learners.md states the distributions and why.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tutormesh.tools.curriculum import Item
from tutormesh.tools.learner_model import CONTENT_TYPES

PACE_SECONDS = {"fast": 20.0, "moderate": 60.0, "slow": 150.0}  # median seconds per answer
PACE_SPREAD = 0.35  # log-normal sigma of one answer's time around the learner's median
HINT_REQUEST = "can I have a hint?"
NEXT_PROBLEM = "next problem please"


@dataclass(frozen=True)
class Answer:
    """One graded answer as the tutor saw it: the skill, the content shown before it, right or not."""

    skill: str
    shown: tuple[str, ...]
    correct: bool
    first_try: bool


@dataclass(frozen=True)
class HiddenParams:
    """What the tutor has to discover: knowledge-tracing parameters, style and pace."""

    learner_id: str
    p_init: dict[str, float]  # per skill: P(known) before any practice
    p_learn: float  # P(learning) from one item with no preferred content before it
    p_learn_preferred: float  # P(learning) from one item with the preferred content type before it
    p_slip: float
    p_guess: float
    preferred: str  # one of CONTENT_TYPES
    pace: str  # fast | moderate | slow
    hint_rate: float  # P(asking for a hint first) on a problem the learner does not know

    def learn_rate(self, shown: Sequence[str]) -> float:
        """P(learning the skill) from the next item, given the content types shown before it."""
        return self.p_learn_preferred if self.preferred in shown else self.p_learn

    def most_likely_preferred(self, answers: Sequence[Answer]) -> str:
        """The content type an observer knowing every other hidden parameter would name from `answers`.

        The exact posterior over the four possible preferences (uniform prior) of this learner's own
        model: the ceiling of style recovery for what the tutor showed and saw (no estimator can do
        better on average from the same answers).
        """
        def log_likelihood(kind: str) -> float:
            known: dict[str, float] = dict(self.p_init)  # a skill outside the unit starts unknown
            total = 0.0
            for a in answers:
                k = known.get(a.skill, 0.0)
                if a.first_try:
                    k += (1.0 - k) * (self.p_learn_preferred if kind in a.shown else self.p_learn)
                right, wrong = k * (1.0 - self.p_slip), k * self.p_slip
                p = right + (1.0 - k) * self.p_guess if a.correct else wrong + (1.0 - k) * (1.0 - self.p_guess)
                total += math.log(p)
                known[a.skill] = (right if a.correct else wrong) / p
            return total

        return max(CONTENT_TYPES, key=log_likelihood)

    @property
    def style_boost(self) -> float:
        """How many times faster the learner learns after its preferred content type."""
        return self.p_learn_preferred / self.p_learn


def draw_params(learner_id: str, skills: Sequence[str], rng: random.Random) -> HiddenParams:
    """Draw one learner's hidden parameters (the distributions are in docs/simulated-learners.md)."""
    return HiddenParams(
        learner_id=learner_id,
        p_init={skill: rng.uniform(0.0, 0.25) for skill in skills},
        p_learn=rng.uniform(0.04, 0.1),
        p_learn_preferred=rng.uniform(0.45, 0.75),
        p_slip=rng.uniform(0.05, 0.12),
        p_guess=rng.uniform(0.05, 0.2),
        preferred=rng.choice(CONTENT_TYPES),
        pace=rng.choice(("fast", "moderate", "moderate", "slow")),
        hint_rate=rng.uniform(0.0, 0.3),
    )


def population(n: int, skills: Sequence[str], seed: int) -> list[HiddenParams]:
    """`n` learners drawn from one seed: the same seed always gives the same students."""
    rng = random.Random(seed)
    return [draw_params(f"s{seed}-{i:04d}", skills, rng) for i in range(n)]


@dataclass
class SimulatedLearner:
    """One learner in one arm: its hidden knowledge state and its own random stream.

    The stream is seeded by the learner alone, so both arms meet the same student with the same
    luck; what differs is only what the tutor shows.
    """

    params: HiddenParams
    known: dict[str, bool] = field(default_factory=dict)
    hinted: str = ""  # the item id a hint was already asked for
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        """Seed the learner's stream and draw what it knows before any practice."""
        self.rng = random.Random(self.params.learner_id)
        self.known = {skill: self.rng.random() < p for skill, p in self.params.p_init.items()}

    def seconds(self) -> float:
        """Time the learner takes over one answer (log-normal around its pace)."""
        return PACE_SECONDS[self.params.pace] * math.exp(self.rng.gauss(0.0, PACE_SPREAD))

    def reply(self, state: Mapping[str, Any], item: Item) -> tuple[str, bool | None]:
        """The learner's next message on the open problem, and whether it is a right answer (None: no answer).

        A first try of an item is a learning opportunity: the learner may learn the skill, faster
        when its preferred content came before the item. A retry (after a wrong answer) answers from
        what it knows now.
        """
        current = state.get("current_item") or {}
        skill = item.skill
        first_try = int(current.get("tries", 0)) == 0
        if first_try and not self.known.get(skill) and self.hinted != item.id \
                and self.rng.random() < self.params.hint_rate:
            self.hinted = item.id
            return HINT_REQUEST, None
        if first_try and not self.known.get(skill):
            self.known[skill] = self.rng.random() < self.params.learn_rate(list(state.get("since_answer") or []))
        p_right = 1.0 - self.params.p_slip if self.known.get(skill) else self.params.p_guess
        correct = self.rng.random() < p_right
        return (item.answer if correct else wrong_answer(item, self.rng)), correct


def wrong_answer(item: Item, rng: random.Random) -> str:
    """A real wrong answer: one of the item's misconceptions (each item has at least one)."""
    wrong = [m.answer for m in item.misconceptions if m.answer.strip() != item.answer.strip()]
    if wrong:
        return rng.choice(wrong)
    return "x = 12345" if "x" in item.answer else "12345"

"""Bayesian Knowledge Tracing: an O(1) online update per attempt, parameters per skill.

The classic four-parameter model (Corbett & Anderson 1995). Each attempt updates P(known) from the
previous estimate alone, so a prediction never replays the history (pyBKT does; see STACK-NOTES).
"""

from __future__ import annotations

from dataclasses import dataclass

MASTERY_THRESHOLD = 0.95
# Mastery needs evidence as well as a high estimate (MATHia's rule): with the curriculum's
# parameters two right answers already push P(known) past 0.95. docs/conversation.md has the numbers.
MIN_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class BKTParams:
    """Per-skill parameters: prior, learning rate, slip and guess probabilities."""

    p_init: float = 0.2
    p_learn: float = 0.15
    p_slip: float = 0.1
    p_guess: float = 0.2

    def __post_init__(self) -> None:
        for name in ("p_init", "p_learn", "p_slip", "p_guess"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"BKT {name} must be a probability, got {value}")
        # slip + guess >= 1 makes a correct answer evidence of NOT knowing: the model degenerates.
        if self.p_slip + self.p_guess >= 1.0:
            raise ValueError("BKT p_slip + p_guess must be < 1")


def update(p_known: float, correct: bool, params: BKTParams) -> float:
    """Return P(known) after observing one attempt, including the chance to learn from it."""
    slip, guess = params.p_slip, params.p_guess
    if correct:
        evidence = p_known * (1.0 - slip)
        posterior = evidence / (evidence + (1.0 - p_known) * guess)
    else:
        evidence = p_known * slip
        posterior = evidence / (evidence + (1.0 - p_known) * (1.0 - guess))
    return posterior + (1.0 - posterior) * params.p_learn


def p_correct(p_known: float, params: BKTParams) -> float:
    """Predict the probability that the next attempt is correct."""
    return p_known * (1.0 - params.p_slip) + (1.0 - p_known) * params.p_guess


def is_mastered(p_known: float, attempts: int = 0, *, threshold: float = MASTERY_THRESHOLD,
                min_attempts: int = MIN_ATTEMPTS) -> bool:
    """Mastery is P(known) at or above the threshold after at least `min_attempts` graded attempts.

    `attempts == 0` is an estimate set without practice (a placement test): it stands on its own.
    """
    return p_known >= threshold and (attempts == 0 or attempts >= min_attempts)

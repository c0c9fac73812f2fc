"""The learner model's adaptive part: style weights, pace, strengths and weaknesses, from signals.

Pure functions over plain dicts, so every rule is unit-tested and explained without a database.
docs/learner-model.md states each rule, its thresholds and why.

Style weights: one Beta-Bernoulli posterior per content type over "the answer right after this
content was shown was correct". The weight is the posterior mean, so it lives in (0, 1) and is
explained by its two counts. Each answer counts as much as it surprised the mastery estimate: a
right answer the estimate expected, or a wrong one it did not, says little about the content (a
student who already knew the skill answers right after any content). So 0.5 means "answers after
this content are as the estimate predicts" and above it "better than predicted". Counts decay
(their sum is capped at `STYLE_WINDOW`) so the weight follows a student who changes, and one
lucky answer cannot swing it far.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

CONTENT_TYPES = ("text", "visual", "worked_example", "recap")
ContentType = Literal["text", "visual", "worked_example", "recap"]
Pace = Literal["slow", "moderate", "fast"]

PREFER_THRESHOLD = 0.5  # the ONE threshold: a weight at or above it means "this student likes this content"
STYLE_WINDOW = 30.0  # the most evidence a style weight keeps, prior included (older answers fade out)
PRIOR_STRENGTH = 4.0  # a weight counts as this many answers until real answers replace it
EXPECT_PRIOR = 2.0  # the mastery estimate's prediction counts as this many answers in `expected_right`
# Profiles written before content types existed carry {"visual", "audio"}; audio meant the recap
# "video" that never existed, so it maps to the recap summary that replaced it.
LEGACY_STYLE = {"visual": "visual", "audio": "recap"}

# Pace: accuracy and seconds per answer over the last PACE_WINDOW answers (at least PACE_MIN_EVIDENCE).
# Entering a pace needs the outer threshold, leaving it needs the inner one (hysteresis), so a
# student near a boundary is not flipped back and forth on every answer.
PACE_WINDOW = 8
PACE_MIN_EVIDENCE = 4
SLOW_ENTER = {"accuracy": 0.5, "seconds": 120.0}  # enter slow below this accuracy or above these seconds
SLOW_EXIT = {"accuracy": 0.6, "seconds": 90.0}  # leave slow at or above this accuracy and at most these
FAST_ENTER = {"accuracy": 0.85, "seconds": 30.0}  # enter fast at or above this accuracy and at most these
FAST_EXIT = {"accuracy": 0.75, "seconds": 45.0}  # leave fast below this accuracy or above these seconds

# Strengths and weaknesses, from mastery and misconception hits.
STRENGTH_P, STRENGTH_ATTEMPTS = 0.8, 3
WEAKNESS_P, WEAKNESS_ATTEMPTS = 0.5, 2
WEAKNESS_MISCONCEPTIONS = 2  # the same skill's known misconceptions hit this often is a weakness

# Time on task: a gap longer than IDLE_AFTER_S is not work; it counts IDLE_AFTER_S and the rest is idle.
IDLE_AFTER_S = 300.0
REVIEW_AFTER_DAYS = 7  # a mastered skill not practised for this long is due a spaced review
HISTORY_DAYS = 30  # the session history the review looks back over


@dataclass(frozen=True)
class Adaptation:
    """One change to the learner model and why, as the student and their teacher read it."""

    kind: str
    before: Any
    after: Any
    reason: str


# --- style ------------------------------------------------------------------------------------
def style_counts(raw: Mapping[str, Any] | None,
                 learning_style: Mapping[str, Any] | None = None) -> dict[str, list[float]]:
    """Return the Beta counts [alpha, beta] per content type, prior included.

    A type with no stored counts starts from its current weight w as PRIOR_STRENGTH pseudo-answers
    (alpha = w * strength): a default 0.5 is Beta(2, 2), a migrated visual 0.7 is Beta(2.8, 1.2).
    """
    raw, weights = raw or {}, style_weights(learning_style)
    out: dict[str, list[float]] = {}
    for kind in CONTENT_TYPES:
        pair = raw.get(kind)
        if pair:
            out[kind] = [max(float(pair[0]), 0.01), max(float(pair[1]), 0.01)]
        else:
            w = min(max(weights[kind], 0.05), 0.95)
            out[kind] = [round(w * PRIOR_STRENGTH, 4), round((1.0 - w) * PRIOR_STRENGTH, 4)]
    return out


def style_weights(raw: Mapping[str, Any] | None) -> dict[str, float]:
    """Return weights over CONTENT_TYPES from a stored `learning_style` (old {"visual","audio"} too)."""
    raw = dict(raw or {})
    for old, new in LEGACY_STYLE.items():
        if old in raw:
            raw.setdefault(new, raw[old])
    return {kind: min(max(float(raw.get(kind, 0.5)), 0.0), 1.0) for kind in CONTENT_TYPES}


def weights_from_counts(counts: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Return each type's weight: its Beta posterior mean alpha / (alpha + beta)."""
    return {kind: round(counts[kind][0] / (counts[kind][0] + counts[kind][1]), 4) for kind in CONTENT_TYPES}


def surprise(correct: bool, expected: float) -> float:
    """How much one answer counts as style evidence: 2 x how far it lies from the predicted P(right).

    `expected` is the P(right answer) predicted before it (`expected_right`). At 0.5 an
    answer counts once; a right answer from a student expected to fail counts nearly twice, a right
    answer from one expected to succeed hardly at all. On average a content type that does nothing
    gains as much success as failure evidence, so its weight stays near 0.5.
    """
    expected = min(max(expected, 0.0), 1.0)
    return 2.0 * ((1.0 - expected) if correct else expected)


def expected_right(recent: Sequence[Mapping[str, Any]], skill: str, predicted: float) -> float:
    """The P(right) one answer's surprise is measured against: this student's recent record on the skill.

    The share of right answers among the latest ones on `skill` (before this answer), smoothed by
    `EXPECT_PRIOR` pseudo-answers at the mastery estimate's `predicted` P(right). The curriculum's
    knowledge-tracing parameters describe an average student; against them every content type
    would look bad for a student who learns slower than average (and good for a faster one).
    """
    on_skill = [bool(r["correct"]) for r in recent if r.get("skill") == skill]
    return (sum(on_skill) + predicted * EXPECT_PRIOR) / (len(on_skill) + EXPECT_PRIOR)


def observe_style(counts: Mapping[str, Sequence[float]], shown: Iterable[str], correct: bool,
                  expected: float = 0.5) -> dict[str, list[float]]:
    """Count one graded answer against the content types shown just before it; decay past the window.

    Types shown together share the answer's evidence: one answer is one piece of evidence, however
    many pieces of content came before it.
    """
    out = {kind: [float(v[0]), float(v[1])] for kind, v in counts.items()}
    kinds = [kind for kind in dict.fromkeys(shown) if kind in out]
    weight = surprise(correct, expected) / max(len(kinds), 1)
    for kind in kinds:
        pair = out[kind]
        pair[0 if correct else 1] += weight
        total = pair[0] + pair[1]
        if total > STYLE_WINDOW:
            pair[0], pair[1] = pair[0] * STYLE_WINDOW / total, pair[1] * STYLE_WINDOW / total
        out[kind] = [round(pair[0], 4), round(pair[1], 4)]
    return out


def prefers(profile: Mapping[str, Any], content_type: str) -> bool:
    """Whether this student is served `content_type` gladly: its weight reaches PREFER_THRESHOLD."""
    if content_type not in CONTENT_TYPES:
        raise ValueError(f"unknown content type {content_type!r}; expected one of {CONTENT_TYPES}")
    return style_weights(profile.get("learning_style"))[content_type] >= PREFER_THRESHOLD


def is_visual_learner(profile: Mapping[str, Any]) -> bool:
    """Whether to add a picture for this student (the one place that decides it)."""
    return prefers(profile, "visual")


def preferred(profile: Mapping[str, Any]) -> list[str]:
    """The content types this student prefers, best first."""
    weights = style_weights(profile.get("learning_style"))
    return [k for k in sorted(CONTENT_TYPES, key=lambda k: -weights[k]) if weights[k] >= PREFER_THRESHOLD]


def seed_for(student_id: str, draw: int) -> int:
    """A per-student, per-draw seed: the same student and history always explore the same way."""
    return int.from_bytes(hashlib.blake2b(f"{student_id}:{draw}".encode(), digest_size=8).digest(), "big")


def choose_content(counts: Mapping[str, Sequence[float]], seed: int) -> str:
    """Pick a content type by Thompson sampling: one draw from each type's Beta, the best draw wins.

    Types with little evidence have wide posteriors and still win draws now and then (exploration);
    as evidence grows the best type wins almost every draw.
    """
    rng = random.Random(seed)
    draws = {kind: rng.betavariate(counts[kind][0], counts[kind][1]) for kind in CONTENT_TYPES}
    return max(CONTENT_TYPES, key=lambda kind: draws[kind])


def style_adaptation(before: Mapping[str, float], after: Mapping[str, float],
                     counts: Mapping[str, Sequence[float]]) -> Adaptation | None:
    """An adaptation record when the set of preferred types changed (not on every small move)."""
    was = [k for k in CONTENT_TYPES if before[k] >= PREFER_THRESHOLD]
    now = [k for k in CONTENT_TYPES if after[k] >= PREFER_THRESHOLD]
    if was == now:
        return None
    gained, lost = [k for k in now if k not in was], [k for k in was if k not in now]
    why = []
    for kind in gained + lost:
        s, f = counts[kind]
        why.append(f"{kind} weight {after[kind]:.2f} = mean of Beta({s:g}, {f:g}), prior plus answers after it")
    verb = "now prefers " + ", ".join(gained) if gained else ""
    verb += ("; " if verb else "") + ("less " + ", ".join(lost) if lost else "")
    return Adaptation("learning_style", dict(before), dict(after), f"{verb}: " + "; ".join(why))


# --- pace -------------------------------------------------------------------------------------
def next_pace(current: str, recent: Sequence[Mapping[str, Any]]) -> tuple[Pace, str]:
    """Return the pace for the latest answers (each {"seconds", "correct"}) and the reason for it."""
    pace: Pace = current if current in ("slow", "moderate", "fast") else "moderate"  # type: ignore[assignment]
    window = list(recent)[-PACE_WINDOW:]
    if len(window) < PACE_MIN_EVIDENCE:
        return pace, f"{len(window)} answers so far (need {PACE_MIN_EVIDENCE})"
    accuracy = sum(1 for r in window if r["correct"]) / len(window)
    seconds = sorted(float(r["seconds"]) for r in window)[len(window) // 2]  # the median resists one long pause
    facts = f"{accuracy:.0%} right, median {seconds:.0f} s per answer over the last {len(window)}"
    slow_now = accuracy < SLOW_ENTER["accuracy"] or seconds > SLOW_ENTER["seconds"]
    fast_now = accuracy >= FAST_ENTER["accuracy"] and seconds <= FAST_ENTER["seconds"]
    if pace == "slow":
        leave = accuracy >= SLOW_EXIT["accuracy"] and seconds <= SLOW_EXIT["seconds"]
        return ("fast" if fast_now else "moderate") if leave else "slow", facts
    if pace == "fast":
        leave = accuracy < FAST_EXIT["accuracy"] or seconds > FAST_EXIT["seconds"]
        return ("slow" if slow_now else "moderate") if leave else "fast", facts
    return ("slow" if slow_now else "fast" if fast_now else "moderate"), facts


# --- strengths, weaknesses, goals ----------------------------------------------------------
def strengths_and_weaknesses(mastery: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Skills the student is strong in, and weak in (low mastery after practice, or repeated misconceptions)."""
    strengths, weaknesses = [], []
    for skill, row in sorted(mastery.items()):
        p, attempts = float(row.get("p_known", 0.0)), int(row.get("attempts", 0))
        hits = int(row.get("misconception_hits", 0))
        if (attempts >= WEAKNESS_ATTEMPTS and p < WEAKNESS_P) or hits >= WEAKNESS_MISCONCEPTIONS:
            weaknesses.append(skill)
        elif attempts >= STRENGTH_ATTEMPTS and p >= STRENGTH_P:
            strengths.append(skill)
    return strengths, weaknesses


def due_reviews(mastery: Mapping[str, Mapping[str, Any]], now: datetime) -> list[str]:
    """Practised skills last seen between REVIEW_AFTER_DAYS and HISTORY_DAYS ago, oldest first."""
    due: list[tuple[datetime, str]] = []
    for skill, row in mastery.items():
        seen = row.get("last_practised")
        if not seen or not row.get("attempts"):
            continue
        when = datetime.fromisoformat(seen) if isinstance(seen, str) else seen
        if now - timedelta(days=HISTORY_DAYS) <= when <= now - timedelta(days=REVIEW_AFTER_DAYS):
            due.append((when, skill))
    return [skill for _, skill in sorted(due)]


# --- time on task ---------------------------------------------------------------------------
def time_on_task(since: datetime | None, now: datetime) -> tuple[float, float]:
    """Split the time since an item was served into work and idle seconds."""
    if since is None:
        return 0.0, 0.0
    gap = max((now - since).total_seconds(), 0.0)
    return min(gap, IDLE_AFTER_S), max(gap - IDLE_AFTER_S, 0.0)


# --- one graded answer, everything it teaches ------------------------------------------------
def learn(profile: Mapping[str, Any], mastery: Mapping[str, Mapping[str, Any]],
          recent: Sequence[Mapping[str, Any]], shown_before: Sequence[str],
          correct: bool, expected: float = 0.5) -> tuple[dict[str, Any], list[Adaptation]]:
    """Return the profile fields one graded answer changes, and an `Adaptation` for each visible change.

    `recent` holds the latest answers' signals (this one last); `mastery` is after this answer;
    `expected` is the P(right answer) predicted for it (`expected_right`, see `surprise`).
    """
    fields: dict[str, Any] = {}
    changes: list[Adaptation] = []
    prior = style_weights(profile.get("learning_style"))
    if shown_before:
        counts = observe_style(style_counts(profile.get("style_counts"), prior), shown_before, correct, expected)
        weights = weights_from_counts(counts)
        fields.update(style_counts=counts, learning_style=weights)
        style = style_adaptation(prior, weights, counts)
        if style is not None:
            changes.append(style)
    before = str(profile.get("pace", "moderate"))
    pace, why = next_pace(before, recent)
    if pace != before:
        fields["pace"] = pace
        changes.append(Adaptation("pace", before, pace, why))
    strengths, weaknesses = strengths_and_weaknesses(mastery)
    for kind, now in (("strengths", strengths), ("weaknesses", weaknesses)):
        was = list(profile.get(kind) or [])
        if now != was:
            fields[kind] = now
            changes.append(Adaptation(kind, was, now, _skills_reason(kind, was, now, mastery)))
    return fields, changes


def _skills_reason(kind: str, was: Sequence[str], now: Sequence[str],
                   mastery: Mapping[str, Mapping[str, Any]]) -> str:
    def facts(skill: str) -> str:
        row = mastery.get(skill, {})
        hits = int(row.get("misconception_hits", 0))
        extra = f", {hits} known misconceptions" if hits else ""
        return f"{skill} (mastery {float(row.get('p_known', 0.0)):.0%} after {row.get('attempts', 0)} answers{extra})"

    added = [facts(s) for s in now if s not in was]
    dropped = [s for s in was if s not in now]
    parts = [f"added {', '.join(added)}"] if added else []
    parts += [f"no longer {', '.join(dropped)}"] if dropped else []
    return f"{kind}: " + "; ".join(parts)

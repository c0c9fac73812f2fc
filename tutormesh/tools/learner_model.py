"""The learner model's adaptive part: style weights, pace, strengths and weaknesses, from signals.

Pure functions over plain dicts, so every rule is unit-tested and explained without a database.
docs/learner-model.md states each rule, its thresholds and why.

Style weights: a Bayesian posterior over which content types speed up this student's learning. A
preference changes how fast a student learns a skill, not how they answer once they know it, so
right/wrong counts after each type say little (a student who knows the skill answers right after
anything). Instead every hypothesis H (the set of types that help, 16 of them) is scored by how well
knowledge tracing with a learning rate that depends on H ("an item after helpful content is learned
HELPED_TIMES as often") predicts the student's answers: a right answer two items after a picture
credits the picture retroactively, a guess followed by a slip credits nothing. The weight of a type
is P(it helps | answers), the marginal of that posterior, so it lives in (0, 1); older answers fade
(`FORGET`), so it follows a student who changes. Pardos & Heffernan (2009) estimate the learning
value of items the same way (a BKT learn rate per item).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from tutormesh.tools.bkt import BKTParams

CONTENT_TYPES = ("text", "visual", "worked_example", "recap")
ContentType = Literal["text", "visual", "worked_example", "recap"]
Pace = Literal["slow", "moderate", "fast"]

PREFER_THRESHOLD = 0.5  # the ONE threshold: a weight at or above it means "this student likes this content"
HELPED_TIMES = 5.0  # a helpful type makes learning from an item this many times as likely as other content
FORGET = 0.97  # each answer's evidence fades by this factor per later answer (a half-life of 23 answers)
TRACKED_SKILLS = 12  # skills whose knowledge the style posterior follows at once (the latest ones)
SETTLED = 0.98  # a skill known this surely under every hypothesis says no more about content: dropped
EXPLORE_UNTIL = 0.65  # until one type is this likely to help, show the type whose weight is least certain
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
    facts: Mapping[str, Any] = field(default_factory=dict)  # the reason's figures, for a reply in any language


# --- style ------------------------------------------------------------------------------------
HYPOTHESES = range(1 << len(CONTENT_TYPES))  # bit i set: CONTENT_TYPES[i] helps this student learn


def style_weights(raw: Mapping[str, Any] | None) -> dict[str, float]:
    """Return weights over CONTENT_TYPES from a stored `learning_style` (old {"visual","audio"} too)."""
    raw = dict(raw or {})
    for old, new in LEGACY_STYLE.items():
        if old in raw:
            raw.setdefault(new, raw[old])
    return {kind: min(max(float(raw.get(kind, 0.5)), 0.0), 1.0) for kind in CONTENT_TYPES}


def style_evidence(raw: Mapping[str, Any] | None,
                   learning_style: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the style posterior's state (`profiles.style_counts`), starting one if there is none.

    {"prior": P(type helps) before any answer, "log_lik": per hypothesis, "known": {skill: P(known)
    per hypothesis}, "answers": how many answers it has counted}. A new one's prior is the current
    weights; rows from the earlier Beta model ({type: [alpha, beta]}) keep their mean as the prior.
    """
    raw = dict(raw or {})
    if "log_lik" in raw:
        return {"prior": dict(raw["prior"]), "log_lik": [float(v) for v in raw["log_lik"]],
                "known": {k: [float(v) for v in row] for k, row in raw["known"].items()},
                "answers": int(raw.get("answers", 0))}
    prior = style_weights(learning_style)
    for kind, pair in raw.items():
        if kind in prior and pair and sum(pair) > 0:
            prior[kind] = float(pair[0]) / (float(pair[0]) + float(pair[1]))
    prior = {kind: min(max(w, 0.02), 0.98) for kind, w in prior.items()}
    return {"prior": prior, "log_lik": [0.0] * len(HYPOTHESES), "known": {}, "answers": 0}


def _helps(h: int, kind: str) -> bool:
    return bool(h >> CONTENT_TYPES.index(kind) & 1)


def posterior(evidence: Mapping[str, Any]) -> list[float]:
    """P(H | answers) for every hypothesis H: the independent prior per type times the likelihood."""
    prior, log_lik = evidence["prior"], evidence["log_lik"]
    top = max(log_lik)
    scores = []
    for h in HYPOTHESES:
        p = math.exp(log_lik[h] - top)
        for kind in CONTENT_TYPES:
            p *= prior[kind] if _helps(h, kind) else 1.0 - prior[kind]
        scores.append(p)
    total = sum(scores)
    return [p / total for p in scores]


def weights_of(evidence: Mapping[str, Any]) -> dict[str, float]:
    """Each type's weight: P(it helps this student learn | their answers), the posterior's marginal."""
    post = posterior(evidence)
    pairs = list(zip(HYPOTHESES, post, strict=True))
    return {kind: round(sum(p for h, p in pairs if _helps(h, kind)), 4) for kind in CONTENT_TYPES}


def learn_rate(helped: bool, p_learn: float) -> float:
    """The chance to learn from one item: the skill's average rate split into helped and unhelped items.

    The curriculum's `p_learn` describes an average student, who meets helpful content on some items
    and not on others; under a hypothesis an item is learned HELPED_TIMES as often after helpful content.
    """
    base = p_learn * 2.0 / (1.0 + HELPED_TIMES)
    return min(base * HELPED_TIMES, 0.95) if helped else base


def observe_style(evidence: Mapping[str, Any], shown: Iterable[str], correct: bool, *, skill: str,
                  known: float, params: BKTParams) -> dict[str, Any]:
    """Count one graded first try on `skill` after the content types `shown` since the last answer.

    Under each hypothesis the skill may be learned before the answer (at the helped rate if any shown
    type helps under it), then the answer is explained by knowing (1 - slip) or guessing; the
    hypothesis gains the log of that probability. `known` is the mastery estimate before the answer,
    the start for a skill the posterior is not following yet.
    """
    shown = [kind for kind in dict.fromkeys(shown) if kind in CONTENT_TYPES]
    tracked = {k: list(v) for k, v in evidence["known"].items() if k != skill}
    before = evidence["known"].get(skill) or [known] * len(HYPOTHESES)
    log_lik, after = [], []
    for h, old, k in zip(HYPOTHESES, evidence["log_lik"], before, strict=True):
        rate = learn_rate(any(_helps(h, kind) for kind in shown), params.p_learn)
        k = k + (1.0 - k) * rate
        right, wrong = k * (1.0 - params.p_slip), k * params.p_slip
        p = right + (1.0 - k) * params.p_guess if correct else wrong + (1.0 - k) * (1.0 - params.p_guess)
        log_lik.append(FORGET * old + math.log(p))
        after.append((right if correct else wrong) / p)
    top = max(log_lik)
    if min(after) < SETTLED:
        tracked[skill] = [round(k, 5) for k in after]
    latest = dict(list(tracked.items())[-TRACKED_SKILLS:])
    return {"prior": dict(evidence["prior"]), "log_lik": [round(v - top, 5) for v in log_lik],
            "known": latest, "answers": int(evidence["answers"]) + 1}


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


def choose_content(evidence: Mapping[str, Any], seed: int) -> str:
    """Pick the content type to show: explore while no type is likely to help, then Thompson sampling.

    Exploring shows the type whose weight is closest to 0.5, the one an answer after it tells most
    about (a type never shown stays at its prior; one shown and followed by no learning falls), so
    each type gets tried early. Once a type reaches EXPLORE_UNTIL, a hypothesis is drawn from the
    posterior and the likeliest type it says helps is shown (the likeliest of all if it says none
    does). Measured in docs/simulated-learners.md: exploring first recovers more styles by turn 20
    than Thompson sampling alone.
    """
    rng = random.Random(seed)
    weights = weights_of(evidence)
    if max(weights.values()) < EXPLORE_UNTIL:
        return min(CONTENT_TYPES, key=lambda kind: (abs(weights[kind] - 0.5), rng.random()))
    drawn = rng.choices(list(HYPOTHESES), weights=posterior(evidence))[0]
    helping = [kind for kind in CONTENT_TYPES if _helps(drawn, kind)]
    return max(helping or CONTENT_TYPES, key=lambda kind: weights[kind])


def style_adaptation(before: Mapping[str, float], after: Mapping[str, float],
                     evidence: Mapping[str, Any]) -> Adaptation | None:
    """An adaptation record when the set of preferred types changed (not on every small move)."""
    was = [k for k in CONTENT_TYPES if before[k] >= PREFER_THRESHOLD]
    now = [k for k in CONTENT_TYPES if after[k] >= PREFER_THRESHOLD]
    if was == now:
        return None
    gained, lost = [k for k in now if k not in was], [k for k in was if k not in now]
    why = [f"P({kind} speeds up learning) {before[kind]:.2f} -> {after[kind]:.2f}" for kind in gained + lost]
    verb = "; ".join(part for part in ("now prefers " + ", ".join(gained) if gained else "",
                                       "less " + ", ".join(lost) if lost else "") if part)
    basis = f", from how {evidence['answers']} answers followed what was shown"
    return Adaptation("learning_style", dict(before), dict(after), f"{verb}: " + "; ".join(why) + basis)


# --- pace -------------------------------------------------------------------------------------
def _pace_window(recent: Sequence[Mapping[str, Any]]) -> tuple[float, float, int] | None:
    """Accuracy, median seconds and size of the last PACE_WINDOW answers; None below PACE_MIN_EVIDENCE."""
    window = list(recent)[-PACE_WINDOW:]
    if len(window) < PACE_MIN_EVIDENCE:
        return None
    accuracy = sum(1 for r in window if r["correct"]) / len(window)
    seconds = sorted(float(r["seconds"]) for r in window)[len(window) // 2]  # the median resists one long pause
    return accuracy, seconds, len(window)


def pace_facts(recent: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The pace reason's figures (percent right, median seconds, answers), for a reply in any language."""
    measured = _pace_window(recent)
    if measured is None:
        return None
    accuracy, seconds, answers = measured
    return {"right": round(100 * accuracy), "seconds": round(seconds), "answers": answers}


def next_pace(current: str, recent: Sequence[Mapping[str, Any]]) -> tuple[Pace, str]:
    """Return the pace for the latest answers (each {"seconds", "correct"}) and the reason for it."""
    pace: Pace = current if current in ("slow", "moderate", "fast") else "moderate"  # type: ignore[assignment]
    measured, facts = _pace_window(recent), pace_facts(recent)
    if measured is None or facts is None:
        return pace, f"{len(list(recent)[-PACE_WINDOW:])} answers so far (need {PACE_MIN_EVIDENCE})"
    accuracy, seconds, _ = measured
    why = f"{facts['right']}% right, median {facts['seconds']} s per answer over the last {facts['answers']}"
    slow_now = accuracy < SLOW_ENTER["accuracy"] or seconds > SLOW_ENTER["seconds"]
    fast_now = accuracy >= FAST_ENTER["accuracy"] and seconds <= FAST_ENTER["seconds"]
    if pace == "slow":
        leave = accuracy >= SLOW_EXIT["accuracy"] and seconds <= SLOW_EXIT["seconds"]
        return ("fast" if fast_now else "moderate") if leave else "slow", why
    if pace == "fast":
        leave = accuracy < FAST_EXIT["accuracy"] or seconds > FAST_EXIT["seconds"]
        return ("slow" if slow_now else "moderate") if leave else "fast", why
    return ("slow" if slow_now else "fast" if fast_now else "moderate"), why


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
          recent: Sequence[Mapping[str, Any]], shown_before: Sequence[str], correct: bool, *,
          skill: str = "", known: float = 0.5, params: BKTParams | None = None,
          first_try: bool = True) -> tuple[dict[str, Any], list[Adaptation]]:
    """Return the profile fields one graded answer changes, and an `Adaptation` for each visible change.

    `recent` holds the latest answers' signals (this one last); `mastery` is after this answer;
    `known` is the mastery estimate on `skill` before it and `params` the skill's tracing parameters.
    Only a first try is style evidence: a retry comes after a hint, not after the content.
    """
    fields: dict[str, Any] = {}
    changes: list[Adaptation] = []
    if first_try:
        prior = style_weights(profile.get("learning_style"))
        evidence = observe_style(style_evidence(profile.get("style_counts"), prior), shown_before, correct,
                                 skill=skill, known=known, params=params or BKTParams())
        weights = weights_of(evidence)
        fields.update(style_counts=evidence, learning_style=weights)
        style = style_adaptation(prior, weights, evidence)
        if style is not None:
            changes.append(style)
    before = str(profile.get("pace", "moderate"))
    pace, why = next_pace(before, recent)
    if pace != before:
        fields["pace"] = pace
        changes.append(Adaptation("pace", before, pace, why, pace_facts(recent) or {}))
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

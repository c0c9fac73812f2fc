"""A/B content experiments: mastery gain per attempt by arm, Welch's 95% interval, the retirement rule.

An experiment is one topic's item templates; its arms are the templates' wordings A and B. A
student's arm is fixed per student (`agents/planner.next_item`), so the student is the unit that
was randomised: each student contributes the mean BKT gain (p_known after minus before) of their
graded practice attempts in the topic, and arms are compared over those per-student means (the
attempts of one student are not independent, so a test over attempts would be overconfident).

The interval of the difference (B - A) is Welch's: se = sqrt(s_A^2/n_A + s_B^2/n_B) with the
Welch-Satterthwaite degrees of freedom, and the Student-t quantile from mpmath's regularised
incomplete beta function (scipy is not a dependency). Rule and figures: docs/assessment.md.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import mpmath
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.models import Attempt, AuditEntry

Arm = Literal["A", "B"]
ARMS: tuple[Arm, ...] = ("A", "B")
# The retirement rule: enough students and attempts in each arm, then the 95% interval of the
# difference must exclude 0; the arm with the lower mean gain is retired.
MIN_STUDENTS = 20
MIN_ATTEMPTS = 100
CONFIDENCE = 0.95
RETIRE_ACTION = "retire_variant"  # the audit log entry that records a retirement (the one record of it)
RETIRED_TTL_S = 30.0  # other processes see a retirement within this long


class ExperimentError(ValueError):
    """The numbers cannot support the requested statistic."""


def t_cdf(t: float, df: float) -> float:
    """Student-t distribution function: 1 - I_x(df/2, 1/2) / 2 with x = df / (df + t^2), for t >= 0."""
    if df <= 0:
        raise ExperimentError("degrees of freedom must be positive")
    x = df / (df + t * t)
    tail = float(mpmath.betainc(df / 2, 0.5, 0, x, regularized=True)) / 2
    return 1 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t value with `t_cdf(t, df) == p`, by bisection (the cdf is increasing; 200 halvings suffice)."""
    if not 0.5 <= p < 1:
        raise ExperimentError("quantile wanted for 0.5 <= p < 1")
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    return (low + high) / 2


@dataclass(frozen=True)
class Interval:
    """An estimate and its confidence interval."""

    estimate: float
    low: float
    high: float
    df: float

    def excludes_zero(self) -> bool:
        """Whether 0 lies outside the interval."""
        return self.low > 0 or self.high < 0


def mean_interval(values: list[float], confidence: float = CONFIDENCE) -> Interval:
    """The mean and its t interval (n - 1 degrees of freedom)."""
    n = len(values)
    if n < 2:
        raise ExperimentError("need at least two values")
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    half = t_quantile((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n - 1)


def welch_interval(a: list[float], b: list[float], confidence: float = CONFIDENCE) -> Interval:
    """Welch's interval of mean(b) - mean(a): unequal variances, Welch-Satterthwaite degrees of freedom."""
    if len(a) < 2 or len(b) < 2:
        raise ExperimentError("need at least two values in each group")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    diff = statistics.fmean(b) - statistics.fmean(a)
    if va + vb == 0:
        return Interval(diff, diff, diff, math.inf)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t_quantile((1 + confidence) / 2, df) * math.sqrt(va + vb)
    return Interval(diff, diff - half, diff + half, df)


@dataclass(frozen=True)
class ArmSummary:
    """One arm: how many students and attempts, and the mean gain per attempt with its interval."""

    students: int
    attempts: int
    gain: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Experiment:
    """One topic's A/B comparison and what the retirement rule says about it."""

    id: str
    arms: dict[str, ArmSummary]
    difference: Interval | None  # B - A
    verdict: Literal["collecting", "no_difference", "retire"]
    loser: Arm | None
    retired: Arm | None = None
    rule: dict[str, Any] = field(default_factory=lambda: {
        "min_students_per_arm": MIN_STUDENTS, "min_attempts_per_arm": MIN_ATTEMPTS, "confidence": CONFIDENCE})

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API."""
        out = asdict(self)
        out["difference"] = None if self.difference is None else {
            "estimate": self.difference.estimate, "low": self.difference.low, "high": self.difference.high,
            "df": None if math.isinf(self.difference.df) else self.difference.df}
        return out

    def supports_retiring(self, arm: str) -> bool:
        """Whether the rule's evidence says `arm` lost."""
        return self.verdict == "retire" and self.loser == arm


@dataclass(frozen=True)
class StudentArm:
    """One student's attempts in one experiment arm: count and summed gain (SQL does the sums)."""

    student_id: str
    experiment: str
    arm: Arm
    attempts: int
    gain_sum: float


def summarise(experiment: str, rows: Iterable[StudentArm], retired: Arm | None = None) -> Experiment:
    """Apply the arm statistics and the retirement rule to one experiment's per-student rows."""
    by_arm: dict[str, list[StudentArm]] = {arm: [] for arm in ARMS}
    for row in rows:
        by_arm[row.arm].append(row)
    means = {arm: [r.gain_sum / r.attempts for r in found if r.attempts] for arm, found in by_arm.items()}
    arms: dict[str, ArmSummary] = {}
    for arm in ARMS:
        attempts = sum(r.attempts for r in by_arm[arm])
        values = means[arm]
        if len(values) >= 2:
            ci = mean_interval(values)
            arms[arm] = ArmSummary(len(values), attempts, ci.estimate, ci.low, ci.high)
        else:
            arms[arm] = ArmSummary(len(values), attempts, statistics.fmean(values) if values else None, None, None)
    difference = welch_interval(means["A"], means["B"]) if min(map(len, means.values())) >= 2 else None
    enough = all(a.students >= MIN_STUDENTS and a.attempts >= MIN_ATTEMPTS for a in arms.values())
    if not enough or difference is None:
        return Experiment(experiment, arms, difference, "collecting", None, retired)
    if not difference.excludes_zero():
        return Experiment(experiment, arms, difference, "no_difference", None, retired)
    return Experiment(experiment, arms, difference, "retire", "A" if difference.estimate > 0 else "B", retired)


# -- reading attempts and retirements --------------------------------------------------------------
_ARM = case((Attempt.item_id.like("%.A.%"), "A"), (Attempt.item_id.like("%.B.%"), "B"))


def student_arms(s: Session, student_ids: list[str] | None = None) -> list[StudentArm]:
    """Per student, topic and arm: graded practice attempts and their summed gain (None: every student).

    Quiz answers are attempts too, but their item ids are question ids with no variant, so the
    `.A.`/`.B.` match leaves them out; practice item ids are `<subject>.<topic>.d<N>.<A|B>.<seed>`.
    """
    query = (select(Attempt.student_id, Attempt.skill, _ARM.label("arm"), func.count().label("n"),
                    func.sum(Attempt.p_known_after - Attempt.p_known_before).label("gain"))
             .where(_ARM.is_not(None), Attempt.thread_id.not_like("quiz:%"))
             .group_by(Attempt.student_id, Attempt.skill, _ARM))
    if student_ids is not None:
        query = query.where(Attempt.student_id.in_(student_ids))
    return [StudentArm(str(r.student_id), str(r.skill), r.arm, int(r.n), float(r.gain or 0.0))
            for r in s.execute(query)]


def read_retired(s: Session) -> dict[str, Arm]:
    """The retired arm of each experiment, from the audit log (the first retirement of each stands)."""
    out: dict[str, Arm] = {}
    # `student_id IS NULL` lets the audit log's student index narrow the scan to staff-wide actions.
    for target in s.scalars(select(AuditEntry.target).where(AuditEntry.student_id.is_(None),
                                                            AuditEntry.action == RETIRE_ACTION)
                            .order_by(AuditEntry.id)):
        experiment, _, rest = target.partition(":")
        arm = rest[:1]
        if arm in ARMS and experiment not in out:
            out[experiment] = "A" if arm == "A" else "B"
    return out


def retirement_target(experiment: str, arm: Arm, reason: str | None) -> str:
    """The audit entry's target: `<experiment>:<arm>`, then `:forced:<reason>` when the rule was overridden."""
    return f"{experiment}:{arm}" + (f":forced:{reason}" if reason else ":rule")


_cache: dict[str, tuple[float, dict[str, Arm]]] = {}
_cache_lock = threading.Lock()


def retired_variants(sessions: sessionmaker[Session], *, ttl_s: float = RETIRED_TTL_S) -> Mapping[str, Arm]:
    """The retired arms, read at most every `ttl_s` per database (the planner asks on every item)."""
    key = str(sessions.kw["bind"].url)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < ttl_s:
        return hit[1]
    with sessions() as s:
        found = read_retired(s)
    with _cache_lock:
        _cache[key] = (now, found)
    return found


def forget_retired() -> None:
    """Drop the cached retirements (after this process retires an arm, so it applies at once)."""
    with _cache_lock:
        _cache.clear()

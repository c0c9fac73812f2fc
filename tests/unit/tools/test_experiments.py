"""A/B experiment statistics against published values, the retirement rule, and reading stored attempts."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.agents.planner import next_item, stable_bucket
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.models import AuditEntry
from tutormesh.core.settings import Settings
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.tools import experiments
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.experiments import StudentArm, summarise
from tutormesh.tools.store import prepare_database

# R's `sleep` data set; `t.test(extra ~ group, data = sleep)` (Welch) prints t = -1.8608,
# df = 17.776, 95 percent confidence interval -3.3654832 0.2054832 for mean(group 1) - mean(group 2).
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


@pytest.mark.parametrize(("df", "expected"), [(1, 12.7062047362), (10, 2.2281388520), (30, 2.0422724563),
                                              (1e7, 1.9599641)])
def test_t_quantile_matches_the_tables(df: float, expected: float) -> None:
    assert experiments.t_quantile(0.975, df) == pytest.approx(expected, abs=1e-6)


def test_welch_interval_matches_r_on_the_sleep_data() -> None:
    ci = experiments.welch_interval(SLEEP_2, SLEEP_1)  # b - a = group 1 - group 2, as R reports it
    assert ci.estimate == pytest.approx(-1.58)
    assert ci.df == pytest.approx(17.776, abs=5e-4)
    assert (ci.low, ci.high) == (pytest.approx(-3.3654832, abs=1e-6), pytest.approx(0.2054832, abs=1e-6))
    assert not ci.excludes_zero()


def test_bad_input_is_refused() -> None:
    with pytest.raises(experiments.ExperimentError):
        experiments.welch_interval([1.0], [1.0, 2.0])
    with pytest.raises(experiments.ExperimentError):
        experiments.t_quantile(0.2, 5)
    with pytest.raises(experiments.ExperimentError):
        experiments.t_cdf(1.0, 0)


def _rows(arm: str, students: int, gain: float, spread: float, attempts: int = 6) -> list[StudentArm]:
    # Per-student means gain +/- spread alternately: mean `gain`, a known, non-zero variance.
    return [StudentArm(f"{arm}{n}", "slope", arm, attempts,  # type: ignore[arg-type]
                       attempts * (gain + (spread if n % 2 else -spread))) for n in range(students)]


def test_the_rule_retires_the_worse_arm_only_with_enough_evidence() -> None:
    few = summarise("slope", _rows("A", 5, 0.01, 0.01) + _rows("B", 5, 0.05, 0.01))
    assert few.verdict == "collecting" and few.loser is None and few.difference is not None
    clear = summarise("slope", _rows("A", 25, 0.01, 0.01) + _rows("B", 25, 0.05, 0.01))
    assert clear.verdict == "retire" and clear.loser == "A" and clear.supports_retiring("A")
    assert not clear.supports_retiring("B")
    assert clear.difference is not None and clear.difference.low > 0
    assert clear.arms["B"].students == 25 and clear.arms["B"].attempts == 150
    assert clear.arms["B"].gain == pytest.approx(0.05 - 0.01 / 25)  # 13 students at -0.01, 12 at +0.01
    same = summarise("slope", _rows("A", 25, 0.03, 0.02) + _rows("B", 25, 0.03, 0.02))
    assert same.verdict == "no_difference" and same.loser is None
    worse_b = summarise("slope", _rows("A", 25, 0.05, 0.01) + _rows("B", 25, 0.01, 0.01))
    assert worse_b.loser == "B"
    data = clear.as_dict()
    assert set(data["arms"]) == {"A", "B"} and math.isfinite(data["difference"]["df"])


def test_one_arm_or_no_spread_gives_no_verdict_and_no_crash() -> None:
    lonely = summarise("slope", _rows("A", 30, 0.02, 0.01))
    assert lonely.verdict == "collecting" and lonely.difference is None and lonely.arms["B"].gain is None
    flat = summarise("slope", _rows("A", 25, 0.02, 0.0) + _rows("B", 25, 0.02, 0.0))
    assert flat.verdict == "no_difference" and flat.as_dict()["difference"]["df"] is None


@pytest.fixture
def sessions(isolated_settings: Settings) -> sessionmaker[Session]:
    prepare_database(isolated_settings)
    return sessionmaker_for(isolated_settings)


def test_stored_practice_attempts_are_summed_per_student_and_arm(sessions: sessionmaker[Session]) -> None:
    store = LearnerStore(sessions)
    topic = load_curriculum().topic("slope")
    ids = ["ana", "ben", "cat", "dan"]
    for sid in ids:
        store.ensure_student(sid, sid)
        for n in range(3):
            item = next_item(sid, topic, {topic.skill: {"p_known": 0.3, "attempts": n}}, {})
            store.record_practice(student_id=sid, thread_id="t", item=item.model_dump(), answer=item.answer,
                                  grade={"correct": True, "reason": "equivalent", "feedback": ""},
                                  p_before=0.3, p_after=0.35, reply="")
    store.record_practice(student_id="ana", thread_id="quiz:q1", item={"id": "abc.q1", "skill": "slope",
                          "difficulty": 1}, answer="2", grade={"correct": True, "reason": "equivalent",
                                                              "feedback": ""}, p_before=0.3, p_after=0.9, reply="")
    with sessions() as s:
        rows = experiments.student_arms(s)
        mine = experiments.student_arms(s, ["ana"])
    assert sorted(r.student_id for r in rows) == ids  # the quiz answer is not an A/B attempt
    assert {r.arm for r in rows} == {"AB"[stable_bucket(sid, 2)] for sid in ids}
    assert all(r.attempts == 3 and r.gain_sum == pytest.approx(0.15) and r.experiment == "slope" for r in rows)
    assert [r.student_id for r in mine] == ["ana"]


def test_a_retired_arm_is_no_longer_assigned(sessions: sessionmaker[Session]) -> None:
    topic = load_curriculum().topic("slope")
    students = [f"s{n}" for n in range(20)]
    arms = {sid: next_item(sid, topic, {}, {}).variant for sid in students}
    assert set(arms.values()) == {"A", "B"}  # both arms are in use, each student always the same one
    assert arms == {sid: next_item(sid, topic, {}, {}).variant for sid in students}
    with sessions.begin() as s:
        s.add(AuditEntry(actor_id="root", actor_role="admin", action=experiments.RETIRE_ACTION,
                         target=experiments.retirement_target("slope", "B", None)))
        s.add(AuditEntry(actor_id="root", actor_role="admin", action=experiments.RETIRE_ACTION,
                         target=experiments.retirement_target("slope", "A", "a later, conflicting entry")))
    experiments.forget_retired()
    retired = experiments.retired_variants(sessions)
    assert retired == {"slope": "B"}  # the first retirement stands
    assert {next_item(sid, topic, {}, {}, retired=retired).variant for sid in students} == {"A"}
    other = load_curriculum().topic("density")
    assert {next_item(sid, other, {}, {}, retired=retired).variant for sid in students} == {"A", "B"}

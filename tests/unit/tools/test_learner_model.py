"""The learner model's pure rules: style weights, the one preference threshold, pace, weaknesses, reviews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tutormesh.tools import learner_model as lm
from tutormesh.tools.bkt import BKTParams


def test_old_visual_audio_weights_become_content_type_weights() -> None:
    weights = lm.style_weights({"visual": 0.7, "audio": 0.3})
    assert weights == {"text": 0.5, "visual": 0.7, "worked_example": 0.5, "recap": 0.3}
    assert lm.is_visual_learner({"learning_style": {"visual": 0.7, "audio": 0.3}})
    assert not lm.prefers({"learning_style": {"visual": 0.7, "audio": 0.3}}, "recap")


def test_one_threshold_decides_every_preference() -> None:
    at, below = lm.PREFER_THRESHOLD, lm.PREFER_THRESHOLD - 0.01
    assert lm.prefers({"learning_style": {"worked_example": at}}, "worked_example")
    assert not lm.prefers({"learning_style": {"worked_example": below}}, "worked_example")


PARAMS = BKTParams(p_init=0.3, p_learn=0.2, p_slip=0.1, p_guess=0.15)


def answer(evidence: dict[str, Any], shown: list[str], correct: bool, skill: str = "a",
           known: float = 0.1) -> dict[str, Any]:
    return lm.observe_style(evidence, shown, correct, skill=skill, known=known, params=PARAMS)


def test_a_type_after_which_the_student_learned_gains_weight_and_types_that_did_not_lose_it() -> None:
    evidence = lm.style_evidence({}, {})
    assert lm.weights_of(evidence) == {kind: 0.5 for kind in lm.CONTENT_TYPES}  # the prior: no evidence
    for shown in (["text"], ["recap"], ["text"]):  # wrong after text and recap: not learned
        evidence = answer(evidence, shown, False)
    evidence = answer(evidence, ["visual"], True)  # learned after the picture...
    for _ in range(2):  # ...which the next answers, with nothing shown, confirm
        evidence = answer(evidence, [], True)
    weights = lm.weights_of(evidence)
    assert weights["visual"] > 0.75 and weights["text"] < 0.45 and weights["recap"] < 0.5
    assert lm.preferred({"learning_style": weights})[0] == "visual"


def test_right_answers_from_a_student_who_already_knew_the_skill_credit_no_content() -> None:
    evidence = lm.style_evidence({}, {})
    for _ in range(6):
        evidence = answer(evidence, ["worked_example"], True, known=0.97)
    assert all(abs(w - 0.5) < 0.03 for w in lm.weights_of(evidence).values())


def test_a_lucky_guess_that_the_next_answers_contradict_credits_nothing() -> None:
    evidence = answer(lm.style_evidence({}, {}), ["recap"], True)  # a right answer after a recap...
    lucky = lm.weights_of(evidence)["recap"]
    for _ in range(3):  # ...then wrong again, after nothing new: it was a guess
        evidence = answer(evidence, [], False)
    assert lm.weights_of(evidence)["recap"] < lucky and lm.weights_of(evidence)["recap"] < 0.5


def test_style_evidence_fades_so_weights_can_move_back_and_its_state_stays_small() -> None:
    evidence = lm.style_evidence({}, {})
    for n in range(8):  # eight skills learned right after a recap
        evidence = answer(evidence, ["recap"], True, skill=f"s{n}")
        evidence = answer(evidence, [], True, skill=f"s{n}")
    assert lm.weights_of(evidence)["recap"] > 0.95
    for n in range(40):  # then forty skills not learned after recaps
        evidence = answer(evidence, ["recap"], False, skill=f"t{n}", known=0.05)
    assert lm.weights_of(evidence)["recap"] < lm.PREFER_THRESHOLD
    assert len(evidence["known"]) <= lm.TRACKED_SKILLS and evidence["answers"] == 56


def test_old_beta_counts_become_the_prior() -> None:
    evidence = lm.style_evidence({"visual": [29.0, 1.0], "text": [1.0, 3.0]}, {})
    assert abs(evidence["prior"]["visual"] - 29 / 30) < 1e-9
    assert lm.weights_of(evidence)["visual"] > 0.9 and lm.weights_of(evidence)["text"] == 0.25


def test_thompson_sampling_is_deterministic_and_follows_the_evidence() -> None:
    evidence = lm.style_evidence({}, {})
    for n in range(6):
        evidence = answer(evidence, ["worked_example"], True, skill=f"s{n}")
        evidence = answer(evidence, [], True, skill=f"s{n}")
        evidence = answer(evidence, ["text", "visual", "recap"][n % 3], False, skill=f"t{n}", known=0.05)
    picks = [lm.choose_content(evidence, lm.seed_for("ana", n)) for n in range(50)]
    assert picks == [lm.choose_content(evidence, lm.seed_for("ana", n)) for n in range(50)]
    assert picks.count("worked_example") >= 45
    flat = lm.style_evidence({}, {})
    assert len({lm.choose_content(flat, lm.seed_for("ana", n)) for n in range(40)}) == 4  # it explores


def answers(n: int, *, correct: bool, seconds: float) -> list[dict[str, object]]:
    return [{"correct": correct, "seconds": seconds} for _ in range(n)]


def test_pace_needs_evidence_and_has_hysteresis() -> None:
    assert lm.next_pace("moderate", answers(3, correct=False, seconds=200))[0] == "moderate"
    assert lm.next_pace("moderate", answers(6, correct=False, seconds=200))[0] == "slow"
    assert lm.next_pace("moderate", answers(6, correct=True, seconds=10))[0] == "fast"
    # 55% right: not slow enough to enter slow from moderate, not good enough to leave slow.
    mixed = answers(5, correct=True, seconds=60) + answers(4, correct=False, seconds=60)
    assert lm.next_pace("moderate", mixed[-8:])[0] == "moderate"
    assert lm.next_pace("slow", mixed[-8:])[0] == "slow"
    assert lm.next_pace("fast", answers(8, correct=True, seconds=40))[0] == "fast"  # within the exit band
    pace, reason = lm.next_pace("fast", answers(8, correct=True, seconds=60))
    assert pace == "moderate" and "median 60 s" in reason


def test_weaknesses_come_from_low_mastery_or_repeated_misconceptions() -> None:
    mastery = {"a": {"p_known": 0.9, "attempts": 5}, "b": {"p_known": 0.3, "attempts": 3},
               "c": {"p_known": 0.7, "attempts": 4, "misconception_hits": 2}, "d": {"p_known": 0.2, "attempts": 1}}
    assert lm.strengths_and_weaknesses(mastery) == (["a"], ["b", "c"])


def test_spaced_review_picks_skills_seen_between_a_week_and_a_month_ago() -> None:
    now = datetime(2026, 10, 30, tzinfo=UTC)
    seen = {name: (now - timedelta(days=d)).isoformat() for name, d in (("fresh", 2), ("stale", 10), ("old", 40))}
    mastery = {k: {"attempts": 3, "last_practised": v} for k, v in seen.items()}
    assert lm.due_reviews(mastery, now) == ["stale"]


def test_time_on_task_caps_idle_gaps() -> None:
    start = datetime(2026, 10, 5, 10, tzinfo=UTC)
    assert lm.time_on_task(start, start + timedelta(seconds=42)) == (42.0, 0.0)
    assert lm.time_on_task(start, start + timedelta(minutes=20)) == (lm.IDLE_AFTER_S, 900.0)


def test_learn_records_each_visible_change_with_its_reason() -> None:
    profile = {"pace": "moderate", "learning_style": {}, "style_counts": {}, "strengths": [], "weaknesses": []}
    fields, changes = lm.learn(profile, {"b": {"p_known": 0.3, "attempts": 2}},
                               answers(6, correct=False, seconds=150), ["visual"], False, skill="b", known=0.1,
                               params=PARAMS)
    assert fields["pace"] == "slow" and fields["weaknesses"] == ["b"]
    assert fields["style_counts"]["answers"] == 1 and fields["learning_style"]["visual"] < 0.5
    kinds = {c.kind: c for c in changes}
    assert set(kinds) == {"pace", "weaknesses", "learning_style"}
    assert "0% right" in kinds["pace"].reason and "b (mastery 30%" in kinds["weaknesses"].reason
    assert "less visual" in kinds["learning_style"].reason and "P(visual speeds up learning) 0.50 ->" in \
        kinds["learning_style"].reason


def test_a_retry_after_a_hint_is_no_style_evidence() -> None:
    profile = {"pace": "moderate", "learning_style": {}, "style_counts": {}, "strengths": [], "weaknesses": []}
    fields, _ = lm.learn(profile, {}, answers(1, correct=True, seconds=20), ["visual"], True, skill="b",
                         params=PARAMS, first_try=False)
    assert "style_counts" not in fields and "learning_style" not in fields

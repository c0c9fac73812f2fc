"""The learner model's pure rules: style weights, the one preference threshold, pace, weaknesses, reviews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tutormesh.tools import learner_model as lm


def test_old_visual_audio_weights_become_content_type_weights() -> None:
    weights = lm.style_weights({"visual": 0.7, "audio": 0.3})
    assert weights == {"text": 0.5, "visual": 0.7, "worked_example": 0.5, "recap": 0.3}
    assert lm.is_visual_learner({"learning_style": {"visual": 0.7, "audio": 0.3}})
    assert not lm.prefers({"learning_style": {"visual": 0.7, "audio": 0.3}}, "recap")


def test_one_threshold_decides_every_preference() -> None:
    at, below = lm.PREFER_THRESHOLD, lm.PREFER_THRESHOLD - 0.01
    assert lm.prefers({"learning_style": {"worked_example": at}}, "worked_example")
    assert not lm.prefers({"learning_style": {"worked_example": below}}, "worked_example")


def test_right_answers_after_a_type_raise_its_weight_and_wrong_ones_lower_it() -> None:
    counts = lm.style_counts({}, {})
    assert counts["visual"] == [2.0, 2.0]  # a 0.5 prior counts as four answers
    for _ in range(4):
        counts = lm.observe_style(counts, ["visual"], True)
        counts = lm.observe_style(counts, ["text"], False)
    weights = lm.weights_from_counts(counts)
    assert weights["visual"] == 0.75 and weights["text"] == 0.25 and weights["recap"] == 0.5


def test_an_answer_counts_as_much_as_it_surprised_the_mastery_estimate() -> None:
    assert lm.surprise(True, 0.5) == lm.surprise(False, 0.5) == 1.0
    assert lm.surprise(True, 0.9) < 0.25 and lm.surprise(True, 0.2) == 1.6
    # A content type that does nothing: right as often as predicted (70%), its weight stays at the prior.
    counts = lm.style_counts({}, {})
    for _ in range(3):
        for correct in (True,) * 7 + (False,) * 3:
            counts = lm.observe_style(counts, ["text"], correct, expected=0.7)
    assert abs(lm.weights_from_counts(counts)["text"] - 0.5) < 1e-3
    # Right answers where the estimate expected failures lift the type above the prior.
    for _ in range(3):
        counts = lm.observe_style(counts, ["visual"], True, expected=0.3)
    assert lm.weights_from_counts(counts)["visual"] > 0.7


def test_the_expected_answer_follows_the_students_own_record_on_the_skill() -> None:
    fails = [{"skill": "b", "correct": False}] * 4 + [{"skill": "c", "correct": True}] * 3
    assert lm.expected_right(fails, "b", 0.36) == 0.12  # (0 + 2 x 0.36) / (4 + 2)
    assert lm.expected_right(fails, "d", 0.48) == 0.48  # no record: the mastery estimate's prediction


def test_content_shown_together_shares_one_answers_evidence() -> None:
    counts = lm.observe_style(lm.style_counts({}, {}), ["visual", "recap"], True)
    assert counts["visual"] == counts["recap"] == [2.5, 2.0]


def test_style_evidence_is_bounded_so_weights_can_move_back() -> None:
    counts = lm.style_counts({}, {})
    for _ in range(200):
        counts = lm.observe_style(counts, ["recap"], True)
    assert sum(counts["recap"]) <= lm.STYLE_WINDOW + 1e-6
    for _ in range(25):  # with the window capped, 25 wrong answers outweigh 200 right ones
        counts = lm.observe_style(counts, ["recap"], False)
    assert 0.0 < lm.weights_from_counts(counts)["recap"] < lm.PREFER_THRESHOLD


def test_thompson_sampling_is_deterministic_and_follows_the_evidence() -> None:
    counts = lm.style_counts({"worked_example": [20, 2], "text": [2, 20], "visual": [2, 20], "recap": [2, 20]})
    picks = [lm.choose_content(counts, lm.seed_for("ana", n)) for n in range(50)]
    assert picks == [lm.choose_content(counts, lm.seed_for("ana", n)) for n in range(50)]
    assert picks.count("worked_example") >= 48
    flat = lm.style_counts({}, {})
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
                               answers(6, correct=False, seconds=150), ["visual"], False)
    assert fields["pace"] == "slow" and fields["weaknesses"] == ["b"]
    assert fields["style_counts"]["visual"] == [2.0, 3.0] and fields["learning_style"]["visual"] == 0.4
    kinds = {c.kind: c for c in changes}
    assert set(kinds) == {"pace", "weaknesses", "learning_style"}
    assert "0% right" in kinds["pace"].reason and "b (mastery 30%" in kinds["weaknesses"].reason
    assert "less visual" in kinds["learning_style"].reason

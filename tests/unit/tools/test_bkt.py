"""Bayesian Knowledge Tracing: the online update matches the textbook formulas."""

import pytest

from tutormesh.tools import bkt

PARAMS = bkt.BKTParams(p_init=0.3, p_learn=0.2, p_slip=0.1, p_guess=0.25)


def test_correct_answer_raises_mastery_by_bayes_rule_then_learning() -> None:
    posterior = 0.3 * 0.9 / (0.3 * 0.9 + 0.7 * 0.25)
    assert bkt.update(0.3, True, PARAMS) == pytest.approx(posterior + (1 - posterior) * 0.2)


def test_wrong_answer_lowers_mastery_before_learning() -> None:
    posterior = 0.3 * 0.1 / (0.3 * 0.1 + 0.7 * 0.75)
    assert bkt.update(0.3, False, PARAMS) == pytest.approx(posterior + (1 - posterior) * 0.2)
    assert bkt.update(0.9, False, PARAMS) < 0.9


def test_a_run_of_correct_answers_reaches_the_mastery_threshold() -> None:
    p = PARAMS.p_init
    for _ in range(6):
        p = bkt.update(p, True, PARAMS)
    assert bkt.is_mastered(p)
    assert not bkt.is_mastered(0.949)


def test_update_is_online_and_order_matters_only_through_the_estimate() -> None:
    p = PARAMS.p_init
    history = [True, False, True, True]
    for correct in history:
        p = bkt.update(p, correct, PARAMS)
    q = PARAMS.p_init
    for correct in history:
        q = bkt.update(q, correct, PARAMS)
    assert p == q and 0 < p < 1


def test_predicted_correctness_mixes_slip_and_guess() -> None:
    assert bkt.p_correct(1.0, PARAMS) == pytest.approx(0.9)
    assert bkt.p_correct(0.0, PARAMS) == pytest.approx(0.25)


@pytest.mark.parametrize("fields", [{"p_init": 1.5}, {"p_slip": 0.6, "p_guess": 0.5}, {"p_learn": -0.1}])
def test_invalid_parameters_are_refused(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        bkt.BKTParams(**fields)


def test_two_right_answers_never_master_a_topic_with_the_curriculum_parameters() -> None:
    from tutormesh.tools.curriculum import load_curriculum

    for topic in load_curriculum().topics():
        params = bkt.BKTParams(**topic.bkt.model_dump())
        p = params.p_init
        for attempts in range(1, 3):
            p = bkt.update(p, True, params)
            assert not bkt.is_mastered(p, attempts), topic.slug


def test_mastery_needs_the_minimum_attempts_and_the_estimate() -> None:
    assert not bkt.is_mastered(0.99, bkt.MIN_ATTEMPTS - 1)
    assert bkt.is_mastered(0.99, bkt.MIN_ATTEMPTS)
    assert not bkt.is_mastered(0.9, 10)
    assert bkt.is_mastered(0.97, 0)  # a placement estimate, no practice attempts

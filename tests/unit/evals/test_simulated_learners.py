"""The simulated learners follow their hidden parameters, and the gate fails when adaptation is switched off."""

from __future__ import annotations

import random

import pytest

from tutormesh.evals.simulated_learners import HINT_REQUEST, Answer, SimulatedLearner, population, wrong_answer
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.learner_model import CONTENT_TYPES

SKILLS = ["a", "b"]


def test_a_population_is_the_same_for_the_same_seed_and_covers_every_style() -> None:
    first, again = population(200, SKILLS, seed=3), population(200, SKILLS, seed=3)
    assert first == again and first != population(200, SKILLS, seed=4)
    assert {p.preferred for p in first} == set(CONTENT_TYPES)


def test_the_preferred_content_type_raises_the_learning_rate() -> None:
    params = population(1, SKILLS, seed=3)[0]
    others = [k for k in CONTENT_TYPES if k != params.preferred]
    assert params.learn_rate([params.preferred]) > 2.5 * params.learn_rate(others)
    assert params.learn_rate([]) == params.learn_rate(others) == params.p_learn


def test_the_recovery_ceiling_names_the_type_after_which_the_learner_learned() -> None:
    params = population(1, SKILLS, seed=3)[0]
    other = next(k for k in CONTENT_TYPES if k != params.preferred)
    answers = [Answer("a", (other,), False, True), Answer("a", (), False, False), Answer("a", (other,), False, True),
               Answer("a", (params.preferred,), True, True), Answer("a", (), True, True), Answer("a", (), True, True)]
    assert params.most_likely_preferred(answers) == params.preferred
    flipped = [Answer(a.skill, tuple(other if k == params.preferred else params.preferred for k in a.shown),
                      a.correct, a.first_try) for a in answers]
    assert params.most_likely_preferred(flipped) == other


def _item() -> object:
    topic = load_curriculum().subjects["math"].topics[0]
    return topic.template(2).instantiate(7, "A")


def test_a_learner_answers_right_or_with_a_real_misconception() -> None:
    item = _item()
    replies = set()
    for params in population(60, [item.skill], seed=5):  # type: ignore[attr-defined]
        learner = SimulatedLearner(params)
        text, correct = learner.reply({"current_item": {"id": item.id, "tries": 0}, "since_answer": []}, item)
        if correct is None:
            assert text == HINT_REQUEST
            continue
        replies.add(correct)
        misconceptions = {m.answer for m in item.misconceptions}  # type: ignore[attr-defined]
        assert text == item.answer if correct else text in misconceptions  # type: ignore[attr-defined]
    assert replies == {True, False}
    assert wrong_answer(item, random.Random(1)) != item.answer  # type: ignore[arg-type,attr-defined]


@pytest.mark.parametrize("adapt", [True, False])
def test_the_gate_passes_with_adaptation_and_fails_without(adapt: bool, capsys: pytest.CaptureFixture[str]) -> None:
    from tutormesh import cli

    args = ["eval", "--suite", "simulated_learners", "--gate", "--offline", "--quiet", "--sim-students", "40"]
    assert cli.main(args + ([] if adapt else ["--no-adaptation"])) == (0 if adapt else 1)
    err = capsys.readouterr().err
    if not adapt:
        assert "REGRESSION simulated_learners.item_reduction" in err
        assert "REGRESSION simulated_learners.style_recovery" in err

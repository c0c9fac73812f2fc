"""Verification: a wrong key, a misconception that is right, and a deck's wrong answer are all caught."""

from __future__ import annotations

from tutormesh.tools.ingest import linear
from tutormesh.tools.ingest.exercises import Exercise
from tutormesh.tools.ingest.templates import Candidate, with_key
from tutormesh.tools.ingest.verify import check_source, check_template


def candidate(text: str = "Solve 3x + 5 = 20", level: int = 2, answer: str | None = None) -> Candidate:
    match = linear.recognise(text)
    assert match is not None
    source = Exercise(slide=4, prompt=text, answer=answer)
    return with_key(Candidate(template_id=f"math.eq.d{level}", topic="eq", level=level, match=match, source=source,
                              spec=linear.template(match, level)))


def test_a_correct_template_passes_at_every_draw() -> None:
    template, reason, checked = check_template(candidate(), "math", seeds=5)
    assert template is not None and reason == "" and checked == 10


def test_a_wrong_key_is_rejected_with_the_solvers_answer_in_the_reason() -> None:
    good = candidate()
    wrong = good.model_copy(update={"spec": {**good.spec, "answer": "x = {c - b}"}})  # forgot to divide by a
    template, reason, _ = check_template(wrong, "math")
    assert template is None
    assert "disagrees with the solver's" in reason and "seed 0" in reason


def test_a_misconception_that_is_really_right_is_rejected() -> None:
    good = candidate()
    spec = {**good.spec, "misconceptions": [{"answer": "x = {s}", "feedback": "no"}]}
    template, reason, _ = check_template(good.model_copy(update={"spec": spec}), "math")
    assert template is None and "no valid parameters" in reason  # the sampler refuses a right 'wrong' answer
    spec = {**good.spec, "misconceptions": [{"answer": "{s} = x", "feedback": "no"}]}  # the sampler's check misses it
    template, reason, _ = check_template(good.model_copy(update={"spec": spec}), "math")
    assert template is None and "the misconception" in reason and "is graded correct" in reason


def test_an_invalid_template_is_rejected_not_raised() -> None:
    good = candidate()
    template, reason, _ = check_template(good.model_copy(update={"spec": {**good.spec, "hints": ["one"]}}), "math")
    assert template is None and reason.startswith("invalid template: hints")


def test_the_decks_own_numbers_and_answer_are_checked() -> None:
    assert check_source(candidate(answer="x = 5")) == ("x = 5", "")
    key, reason = check_source(candidate(answer="x = 6"))
    assert key is None and reason == "the deck's answer 'x = 6' disagrees with the verified key 'x = 5'"
    assert check_source(candidate(answer=None))[0] == "x = 5"

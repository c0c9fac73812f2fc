"""LLM wording: kept only when it keeps every placeholder and passes the guards; never touches the key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tutormesh.agents.content import drafting
from tutormesh.core.settings import get_settings
from tutormesh.tools.ingest import linear
from tutormesh.tools.ingest.templates import Candidate, with_key
from tutormesh.tools.ingest.verify import check_template

B = "Find the value of x that makes {terms(a,'x',b,'')} = {c} true."


def candidate() -> Candidate:
    match = linear.recognise("Solve 3x + 5 = 20")
    assert match is not None
    return with_key(Candidate(template_id="math.eq.d2", topic="eq", level=2, match=match,
                              spec=linear.template(match, 2)))


def test_a_rewording_must_keep_exactly_the_placeholders() -> None:
    assert drafting.acceptable(B, "What x solves {terms(a,'x',b,'')} = {c}?")
    assert not drafting.acceptable(B, "What x solves {terms(a,'x',b,'')} = 7?")  # a number of its own
    assert not drafting.acceptable(B, "Solve {terms(a,'x',b,'')} = {c}; x = {s}.")  # gives the answer away
    assert not drafting.acceptable(B, "")


def test_a_kept_rewording_changes_variant_b_only_and_still_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    reply = drafting.Rewording(text="Which value of x solves {terms(a,'x',b,'')} = {c}?")
    monkeypatch.setattr(drafting.llm, "structured", lambda *args, **kwargs: reply)
    before = candidate()
    after = drafting.reword(before)
    assert after.worded_by == "llm" and after.spec["variants"]["B"] == reply.text
    assert {k: v for k, v in after.spec.items() if k != "variants"} == {
        k: v for k, v in before.spec.items() if k != "variants"}
    assert check_template(after, "math", seeds=3)[0] is not None


def test_a_rewording_the_solver_cannot_read_back_fails_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    reply = drafting.Rewording(text="Which x makes {terms(a,'x',b,'')} equal to {c}?")
    monkeypatch.setattr(drafting.llm, "structured", lambda *args, **kwargs: reply)
    template, reason, _ = check_template(drafting.reword(candidate()), "math", seeds=3)
    assert template is None and "cannot read the problem back" in reason and "variant B" in reason


@pytest.fixture
def unreachable_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TUTORMESH_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on port 9
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_an_unreachable_llm_leaves_the_rules_wording(unreachable_llm: Any) -> None:
    before = candidate()
    assert drafting.reword(before) == before

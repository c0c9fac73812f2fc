"""Review rules without a server: slugs the curriculum has are renamed, and edits are verified."""

from __future__ import annotations

from tests.factories import make_draft
from tutormesh.content.review import unclash, verify
from tutormesh.tools.curriculum import load_curriculum


def test_a_topic_the_curriculum_has_gets_its_own_slug_with_its_items_and_assignment() -> None:
    draft = make_draft(slug="order-of-operations")
    taken = {t.slug for t in load_curriculum().topics()}
    renamed, changes = unclash(draft, taken)
    topic = renamed.topics[0].topic
    assert changes == [("order-of-operations", "order-of-operations-2")]
    assert (topic.slug, topic.skill) == ("order-of-operations-2", "order-of-operations-2")
    assert [t.id for t in topic.templates] == [f"math.order-of-operations-2.d{n}" for n in range(1, 6)]
    assert {t.topic for t in topic.templates} == {"order-of-operations-2"}
    assert renamed.assignment is not None
    assert renamed.assignment.template_ids == ["math.order-of-operations-2.d1", "math.order-of-operations-2.d3"]
    assert unclash(renamed, taken) == (renamed, [])


def test_shipped_templates_verify_and_a_broken_key_does_not() -> None:
    topic = load_curriculum().topic("one-step-equations")
    assert all(verify(t) == [] for t in topic.templates)
    wrong = topic.templates[0].model_copy(update={"answer": "x = {x + 1}"})
    assert "disagrees with the solver" in verify(wrong)[0]


def test_a_key_typed_for_an_arithmetic_item_is_checked_against_its_value() -> None:
    topic = load_curriculum().topic("order-of-operations")
    assert all(verify(t) == [] for t in topic.templates)
    wrong = topic.templates[0].model_copy(update={"answer": "999"})
    assert "disagrees with the solver" in verify(wrong)[0]

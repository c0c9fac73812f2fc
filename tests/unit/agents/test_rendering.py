"""The one renderer: each content type's variant of a topic, and the lesson built from them."""

from __future__ import annotations

import pytest

from tutormesh.agents import rendering
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.learner_model import CONTENT_TYPES

TOPIC = load_curriculum().topic("order-of-operations")


def test_worked_example_is_a_numbered_step_list() -> None:
    text = rendering.worked_example(TOPIC, "en")
    assert text.splitlines()[:2] == ["Worked example: Evaluate 7 - 2 × (-3)", "  1. Multiply first: 2 × (-3) = -6."]
    assert text.endswith("Answer: 13")


def test_each_content_type_has_its_own_variant() -> None:
    variants = {kind: rendering.variant(TOPIC, kind, "en") for kind in CONTENT_TYPES}
    assert variants["visual"].startswith("7 - 2 × (-3)") and "└──┬───┘" in variants["visual"]
    assert variants["text"].startswith("Work in this order")
    recap = variants["recap"].splitlines()
    assert recap[0] == "Recap: Order of operations with integers" and all(b.startswith("  • ") for b in recap[1:])
    assert recap[-1] == "  • Example: Evaluate 7 - 2 × (-3) → 13" and len(recap) <= 4
    assert len(set(variants.values())) == 4
    with pytest.raises(ValueError, match="unknown content type"):
        rendering.variant(TOPIC, "video", "en")


def test_lesson_adds_extras_after_the_explanation_and_example_and_says_what_it_showed() -> None:
    plain, pictured = rendering.lesson(TOPIC, "en"), rendering.lesson(TOPIC, "en", ["visual"])
    assert "└──┬───┘" not in plain and pictured.startswith(plain) and "└──┬───┘" in pictured
    assert rendering.lesson_types(["visual", "text"]) == ["text", "worked_example", "visual"]


def test_support_renders_in_the_students_language() -> None:
    text = rendering.support(TOPIC, ["recap"], "es")
    assert text.startswith("Antes de intentarlo") and "Repaso:" in text
    assert rendering.support(TOPIC, [], "en") == ""

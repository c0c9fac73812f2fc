"""Each node of the content graph on its own, on a deck built here."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.runtime import Runtime

from tutormesh.agents.content import assign, nodes
from tutormesh.graphs.content.context import ContentContext
from tutormesh.tools.ingest.draft import Deck, Figure, Slide

RUNTIME: Runtime[Any] = Runtime(context=ContentContext(seeds=3))
SLIDES = [
    Slide(number=1, title="Year 9 revision", text="Algebra and units"),
    Slide(number=2, title="Section 1: Linear equations", text="Undo operations in reverse order."),
    Slide(number=3, title="Worked example", text="Solve 3x + 5 = 20\nStep 1: Subtract 5: 3x = 15\nStep 2: Divide by 3: "
          "x = 5", figures=[Figure(alt="A balance with 3 bags of x and 5 weights against 20 weights.")]),
    Slide(number=4, title="Practice", text="1) Solve 2x + 7 = 15\n2) Solve x + 4 = 9\n3) Solve 4x - 1 = 11\n"
          "4) The sum of two consecutive integers is 51. Find them.", notes="Answer: x = 4\nAnswer: x = 5\n"
          "Answer: x = 4\nAnswer: 25 and 26"),  # 4x - 1 = 11 is x = 3: the deck is wrong
    Slide(number=5, title="Section 2: Unit conversion", text="1 km = 1000 m"),
    Slide(number=6, title="Exercise", text="Convert 2.5 km to m. Answer: 2500 m"),
]
DECK = Deck(file_name="revision.pptx", sha256="0" * 64, format="pptx", slides=SLIDES)


def run_until(stage: str) -> dict[str, Any]:
    state: dict[str, Any] = {"deck": DECK.model_dump(), "subject": "math", "cohort": "9a", "dropped": []}
    steps = [("segment", lambda s: nodes.segment(s)), ("lessons", lambda s: nodes.lessons(s)),
             ("templates", lambda s: nodes.templates(s, RUNTIME)), ("keys", lambda s: nodes.keys(s)),
             ("verify", lambda s: nodes.verify(s, RUNTIME)), ("assign", lambda s: nodes.assign(s, RUNTIME))]
    for name, step in steps:
        update = step(state)
        state = {**state, **update, "dropped": state["dropped"] + update.get("dropped", [])}
        if name == stage:
            return state
    raise AssertionError(stage)


def test_segment_gives_one_section_per_cue_with_the_cover_in_the_first() -> None:
    state = run_until("segment")
    assert [(s.title, s.slides) for s in state["sections"]] == [("Linear equations", [1, 2, 3, 4]),
                                                                ("Unit conversion", [5, 6])]


def test_lessons_read_exercises_and_report_the_ones_no_rule_knows() -> None:
    state = run_until("lessons")
    first = state["lessons"][0]
    assert first.slug == "linear-equations" and first.primary is not None and first.primary.family == "linear"
    assert [r.exercise.slide for r in first.found] == [3, 4, 4, 4, 4]
    assert "[picture] A balance" in first.visual
    [dropped] = state["dropped"]
    assert dropped.source_slide == 4 and "no item rule" in dropped.reason


def test_templates_write_five_levels_a_lesson_from_the_decks_exercises() -> None:
    state = run_until("templates")
    levels = [(c.topic, c.level, c.source.slide if c.source else None) for c in state["candidates"]]
    assert levels[:5] == [("linear-equations", 1, 4), ("linear-equations", 2, 3), ("linear-equations", 3, 4),
                          ("linear-equations", 4, None), ("linear-equations", 5, None)]
    assert len(levels) == 10


def test_keys_recover_the_exercises_whose_answers_agree() -> None:
    state = run_until("keys")
    assert all("answer" in c.spec for c in state["candidates"])
    recovered = {(r.slide, r.key) for r in state["recovered"]}
    assert recovered == {(3, "x = 5"), (4, "x = 4"), (4, "x = 5"), (6, "2500")}
    wrong = [d for d in state["dropped"] if d.text == "Solve 4x - 1 = 11"]
    assert [d.reason for d in wrong] == ["the deck's answer 'x = 4' disagrees with the verified key 'x = 3'"]


def test_verify_keeps_lessons_whose_five_levels_all_pass() -> None:
    state = run_until("verify")
    assert [t.topic.slug for t in state["topics"]] == ["linear-equations", "unit-conversion"]
    assert state["checks"] == {"templates": 10, "templates_verified": 10, "items": 60}
    first = state["topics"][0]
    assert first.source_slides == [1, 2, 3, 4] and first.exercises_recovered == [3, 4]
    assert first.topic.lesson.worked_example.steps == ["Subtract 5: 3x = 15", "Divide by 3: x = 5"]


def test_assign_proposes_spread_levels_easier_to_harder() -> None:
    draft = run_until("assign")["draft"]
    assert draft.assignment is not None and draft.assignment.title == "Practice: revision (9a)"
    ids = draft.assignment.template_ids
    assert [int(i[-1]) for i in ids] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # two lessons, limit 10: every level
    assert ids[:2] == ["math.linear-equations.d1", "math.unit-conversion.d1"]
    six = assign.propose(draft.topics * 3, "x.pdf", None, limit=10)  # six lessons: levels rise along them
    assert six is not None and [int(i[-1]) for i in six.template_ids] == [1, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    two = assign.propose(draft.topics, "x.pdf", None, limit=6)
    assert two is not None and [int(i[-1]) for i in two.template_ids] == [1, 1, 2, 3, 4, 5]
    one = assign.propose(draft.topics[:1], "x.pdf", None, limit=1)
    assert one is not None and one.template_ids == ["math.linear-equations.d1"]
    assert assign.propose([], "x.pdf", None) is None
    assert draft.generator == "offline" and len(draft.dropped) == 2


def test_the_run_context_refuses_settings_that_would_verify_nothing() -> None:
    for bad in ({"seeds": 0}, {"seeds": 1000}, {"assignment_items": 0}, {"due_in_days": 91}):
        with pytest.raises(ValueError, match="must be"):
            ContentContext(**bad)  # type: ignore[arg-type]

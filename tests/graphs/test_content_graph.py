"""The content graph end to end: a deck built here and real deck files become drafts of verified items."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from langgraph.runtime import Runtime

from tutormesh.agents.content import nodes
from tutormesh.graphs.content.build import build_draft
from tutormesh.graphs.content.context import ContentContext
from tutormesh.graphs.content.graph import graph
from tutormesh.tools.curriculum.models import Subject
from tutormesh.tools.grading import grade
from tutormesh.tools.ingest.draft import Deck, Slide
from tutormesh.tools.ingest.parse import parse_deck

SNAPSHOT = Path(__file__).parent / "snapshots" / "content.mmd"
DECKS = Path(__file__).resolve().parents[2] / "tutormesh" / "evals" / "datasets" / "decks"


def test_graph_shape_matches_snapshot() -> None:
    assert graph.checkpointer is None
    drawn = graph.get_graph().draw_mermaid()
    if os.environ.get("TUTORMESH_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(drawn, encoding="utf-8")
    assert drawn == SNAPSHOT.read_text(encoding="utf-8")


def deck() -> Deck:
    slides = [
        Slide(number=1, title="Circuits and units", text="Unit 2"),
        Slide(number=2, title="Part 1: Ohm's law", text="V = I × R", formulas=["V = I R"]),
        Slide(number=3, title="Worked example", text="Problem: A resistor of 220 ohm carries 0.05 A; find V.\n"
              "Step 1: V = I × R = 0.05 × 220.\nStep 2: V = 11 V.\nAnswer: 11 V"),
        Slide(number=4, title="Exercise", text="Exercise: A 12 V battery is across a 4 Ω resistor. Find the current.",
              notes="Answer: 2 A"),  # wrong: 12 / 4 = 3
        Slide(number=5, title="Part 2: Converting lengths", text="1 km = 1000 m"),
        Slide(number=6, title="Practice", text="1) Convert 2.5 km to m\n2) Express 450 cm in metres.",
              notes="Answer: 2500 m\nAnswer: 4.5 m"),
        Slide(number=7, title="Part 3: Reflection", text="What did you find hardest today, and why?"),
    ]
    return Deck(file_name="circuits.pdf", sha256="1" * 64, format="pdf", slides=slides)


def test_a_deck_becomes_verified_lessons_an_assignment_and_the_reasons_for_what_was_dropped() -> None:
    progress: list[tuple[str, float]] = []
    draft = build_draft(deck(), "engineering", cohort="10b", on_progress=lambda s, f: progress.append((s, f)))
    assert [s for s, _ in progress] == ["segment", "lessons", "templates", "keys", "verify", "assign"]
    assert [f for _, f in progress] == sorted(f for _, f in progress) and progress[-1][1] == 1.0
    assert [(t.topic.slug, t.source_slides, t.exercises_recovered) for t in draft.topics] == [
        ("ohms-law", [1, 2, 3, 4], [3]), ("converting-lengths", [5, 6], [6])]
    for draft_topic in draft.topics:
        topic = draft_topic.topic
        assert [t.difficulty for t in topic.templates] == [1, 2, 3, 4, 5]
        for template in topic.templates:
            a, b = template.instantiate(7, "A"), template.instantiate(7, "B")
            assert a.answer == b.answer and a.prompt != b.prompt and grade(a.answer, a.answer).correct
    assert draft.topics[0].topic.lesson.worked_example.steps == ["V = I × R = 0.05 × 220.", "V = 11 V."]
    reasons = {d.text: d.reason for d in draft.dropped}
    assert reasons["A 12 V battery is across a 4 Ω resistor. Find the current."] == (
        "the deck's answer '2 A' disagrees with the verified key '3'")
    assert reasons["Reflection"].startswith("lesson without items")
    assert draft.assignment is not None and draft.assignment.title == "Practice: circuits (10b)"
    levels = [int(i.rsplit(".d", 1)[1]) for i in draft.assignment.template_ids]
    assert levels == sorted(levels) and levels[0] == 1 and levels[-1] == 5
    Subject(slug="engineering", title="Circuits", semester_weeks=12, topics=[t.topic for t in draft.topics])


def test_a_template_that_fails_verification_takes_its_lesson_out_with_the_reason() -> None:
    state = graph.invoke({"deck": deck(), "subject": "engineering"}, context=ContentContext(seeds=2))
    wrong = {"answer": "{dec(X + Y)}"}  # V = I + R
    broken = [c.model_copy(update={"spec": {**c.spec, **wrong}}) if (c.topic, c.level) == ("ohms-law", 3) else c
              for c in state["candidates"]]
    out = nodes.verify({**state, "candidates": broken}, Runtime(context=ContentContext(seeds=2)))
    assert [t.topic.slug for t in out["topics"]] == ["converting-lengths"]
    reasons = [d.reason for d in out["dropped"]]
    assert any(r.startswith("engineering.ohms-law.d3: the key") and "disagrees with the solver's" in r for r in reasons)
    assert "lesson dropped: a topic needs all five levels to pass verification" in reasons


@pytest.mark.parametrize(("name", "lessons", "recovered"), [
    ("linear_equations.pptx", ["equations-and-solutions", "one-step-equations", "two-step-equations",
                               "variables-on-both-sides", "brackets-and-fractions", "word-problems"], {13, 22, 30, 38}),
    ("ohms_law_circuits.md", ["ohms-law", "electrical-power"], {6, 7, 16}),
])
def test_a_real_deck_file_end_to_end(name: str, lessons: list[str], recovered: set[int]) -> None:
    draft = build_draft(parse_deck(DECKS / name), "math", context=ContentContext(seeds=3))
    assert [t.topic.slug for t in draft.topics] == lessons
    assert recovered <= {slide for t in draft.topics for slide in t.exercises_recovered}
    Subject(slug="math", title="From a deck", semester_weeks=20, topics=[t.topic for t in draft.topics])
    assert draft.assignment is not None and all(d.reason for d in draft.dropped)

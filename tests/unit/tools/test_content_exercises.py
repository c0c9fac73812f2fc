"""Finding a slide's exercises and worked examples, with their steps and stated answers."""

from __future__ import annotations

from tutormesh.tools.ingest.draft import Slide
from tutormesh.tools.ingest.exercises import find_exercises


def test_a_worked_example_keeps_its_steps_and_takes_its_last_step_as_the_answer() -> None:
    slide = Slide(number=4, title="Worked example",
                  text="Solve 3x + 5 = 20\nStep 1: Subtract 5 from both sides: 3x = 15\nStep 2: Divide by 3: x = 5")
    [found] = find_exercises(slide)
    assert found.prompt == "Solve 3x + 5 = 20"
    assert found.steps == ["Subtract 5 from both sides: 3x = 15", "Divide by 3: x = 5"]
    assert found.answer == "x=5" and found.worked


def test_a_numbered_practice_list_is_one_exercise_a_line_with_answers_from_the_notes() -> None:
    slide = Slide(number=5, title="Practice", text="1) Solve 2x + 7 = 15\n2) Convert 450 cm to m",
                  notes="Answer: x = 4\nAnswer: 4.5 m")
    found = find_exercises(slide)
    assert [(e.prompt, e.answer, e.worked) for e in found] == [("Solve 2x + 7 = 15", "x = 4", False),
                                                               ("Convert 450 cm to m", "4.5 m", False)]


def test_an_inline_answer_and_a_task_without_a_leading_verb() -> None:
    slide = Slide(number=9, title="Example", text="1 km = 1000 m. A resistor of 220 ohm carries 0.05 A; find V. "
                                                  "Answer: 11 V")
    [found] = find_exercises(slide)
    assert found.prompt == "A resistor of 220 ohm carries 0.05 A; find V."
    assert found.answer == "11 V"


def test_explanations_are_not_exercises() -> None:
    slide = Slide(number=2, title="Ohm's law", text="Voltage is current times resistance.\nV = I × R")
    assert find_exercises(slide) == []

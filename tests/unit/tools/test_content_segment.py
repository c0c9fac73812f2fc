"""Segmenting a deck into lessons: section cues, dividers, numbered titles, topic shifts, cover slides."""

from __future__ import annotations

from tutormesh.tools.ingest.draft import Deck, Slide
from tutormesh.tools.ingest.segment import segment


def deck(*slides: tuple[str, str]) -> Deck:
    return Deck(file_name="t.pptx", sha256="0" * 64, format="pptx",
                slides=[Slide(number=n, title=title, text=text) for n, (title, text) in enumerate(slides, 1)])


def spans(d: Deck) -> list[list[int]]:
    return [s.slides for s in segment(d)]


def test_section_cues_start_lessons_and_the_cover_joins_the_first() -> None:
    d = deck(("Year 9 maths", "Revision deck"), ("Section 1: Linear equations", ""),
             ("Two-step equations", "Undo addition first, then multiplication, to find the unknown value."),
             ("Example", "Solve 3x + 5 = 20"), ("Part 2 - Unit conversion", "Metric prefixes"),
             ("Practice", "Convert 2.5 km to m"))
    sections = segment(d)
    assert [s.slides for s in sections] == [[1, 2, 3, 4], [5, 6]]
    assert [s.title for s in sections] == ["Linear equations", "Unit conversion"]


def test_divider_slides_start_lessons_when_there_are_no_cues() -> None:
    d = deck(("Forces", "Pushes and pulls change how objects move; a force is measured in newtons with a meter."),
             ("Worked example", "A 2 kg mass accelerates at 3 m/s². Find the force."),
             ("Energy", ""), ("Kinetic energy", "Moving objects have kinetic energy that depends on mass and speed."))
    assert spans(d) == [[1, 2], [3, 4]]


def test_numbered_titles_split_on_the_top_level_number() -> None:
    d = deck(("1. Fractions", "a"), ("1.1 Adding", "b"), ("1.2 Subtracting", "c"), ("2. Decimals", "d"),
             ("Summary", "e"))
    assert spans(d) == [[1, 2, 3], [4, 5]]


def test_a_topic_shift_splits_a_deck_with_no_other_cue() -> None:
    long = "Some explanation that runs on for long enough that this slide is clearly not a divider at all here."
    d = deck(("Ohm's law", long), ("Ohm's law in practice", long), ("Electrical power", long),
             ("Example: power", long), ("Power and energy cost", long))
    assert spans(d) == [[1, 2], [3, 4, 5]]


def test_every_slide_lands_in_exactly_one_lesson_in_order() -> None:
    d = deck(("Intro", ""), ("Section A: One", "x"), ("Questions", ""), ("Section B: Two", "y"), ("Thank you", ""))
    flat = [n for s in spans(d) for n in s]
    assert flat == [1, 2, 3, 4, 5]

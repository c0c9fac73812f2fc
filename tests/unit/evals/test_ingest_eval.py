"""The ingest eval's scoring: boundary F1 as defined, the gate on targets and baselines."""

from __future__ import annotations

from tutormesh.evals import ingest


def test_boundaries_ignore_slides_outside_the_labels_and_the_first_section() -> None:
    assert ingest.boundaries([[3, 9], [10, 18], [19, 27]]) == {10, 19}
    assert ingest.boundaries([[1, 2, 3, 4, 5, 6, 7, 8, 9], [10, 11], [19, 20]]) == {10, 19}  # a cover inside is free


def test_removing_section_slides_renumbers_and_moves_each_boundary_to_the_next_slide() -> None:
    from tutormesh.tools.ingest.draft import Deck, Slide

    deck = Deck(file_name="d.md", sha256="0" * 64, format="md", slides=[
        Slide(number=n, title=title) for n, title in enumerate(["Cover", "Lesson 1: A", "a1", "Lesson 2: B", "b1"], 1)])
    bare, gold = ingest.without_section_slides(deck, [[2, 3], [4, 5]])
    assert [(s.number, s.title) for s in bare.slides] == [(1, "Cover"), (2, "a1"), (3, "b1")] and gold == {3}


def test_every_labelled_deck_exists_and_names_its_sections_in_order() -> None:
    for row in ingest.read_rows():
        assert (ingest.DECKS / row["file"]).exists()
        firsts = [first for first, _ in row["sections"]]
        assert firsts == sorted(firsts) and row["exercises"]


def test_the_gate_fails_under_a_target_or_a_baseline() -> None:
    report = {"scores": {"segmentation_f1": {"score": 0.95}, "segmentation_f1_no_cues": {"score": 0.9},
                         "exercises_recovered": {"score": 0.41},
                         "keys_verified": {"score": 0.9}}}
    baseline = {"scores": {"exercises_recovered": {"score": 0.45}}}
    failures = ingest.gate(report, baseline)
    assert failures == ["ingest.exercises_recovered: 0.410 < baseline 0.450 - 0.02",
                        "ingest.keys_verified: 0.900 < target 0.95"]


def test_one_deck_scores_against_its_labels() -> None:
    row = next(r for r in ingest.read_rows() if r["file"] == "ohms_law_circuits.md")
    counts = ingest.run_deck(row, seeds=2)
    assert (counts["tp"], counts["fp"], counts["fn"]) == (2, 0, 0)
    assert counts["recovered"] == 3 and counts["verified"] == counts["templates"] == 10
    assert "A 5 Ω heater carries 4 A. What power does it dissipate?" in counts["missed"]

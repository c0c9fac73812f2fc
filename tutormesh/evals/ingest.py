"""Ingest eval: the content graph on the labelled decks (evals/datasets/decks, deck_labels.jsonl).

Each deck is parsed (`parse_deck`) and run through the content graph offline. Scores, summed over
the decks (targets gated absolutely and against baselines/ingest.json):
- segmentation_f1: boundary F1 of the lessons against the hand-labelled sections. A boundary is
  the first slide of every section but the first; a predicted boundary counts when it is exactly
  a labelled one (so cover, agenda and closing slides outside the labels cost nothing).
- segmentation_f1_no_cues: the same on each deck with its section cues ("Lesson 2:") taken out of
  every title and line, so the divider and topic-shift rules must find the lessons.
- segmentation_f1_no_section_slides (reported, not gated): the same with the section slides
  removed too, so only the topic-shift rule is left to find the lessons.
- exercises_recovered: the share of the decks' own labelled exercises that became a verified
  template whose key, at the deck's own numbers, the grader accepts the labelled answer against.
- keys_verified: the share of generated templates whose keys pass verification (every draw in
  both variants solved independently and graded against the key).
docs/content.md ("Generation") has the figures and what the misses are.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tutormesh.graphs.content.context import ContentContext
from tutormesh.graphs.content.graph import graph
from tutormesh.tools.grading import grade
from tutormesh.tools.ingest import segment
from tutormesh.tools.ingest.draft import Deck
from tutormesh.tools.ingest.parse import parse_deck

DATASETS = Path(__file__).resolve().parent / "datasets"
LABELS = DATASETS / "deck_labels.jsonl"
DECKS = DATASETS / "decks"
BASELINE = Path(__file__).resolve().parent / "baselines" / "ingest.json"
TARGETS = {"segmentation_f1": 0.90, "segmentation_f1_no_cues": 0.80, "exercises_recovered": 0.40,
           "keys_verified": 0.95}
TOLERANCE = 0.02


def read_rows(path: Path = LABELS) -> list[dict[str, Any]]:
    """Return the labelled decks."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def boundaries(sections: list[list[int]]) -> set[int]:
    """The slides that start a section, the first section excepted."""
    return {first for first, *_ in sorted(sections)[1:]}


def _plain(answer: str) -> str:
    return re.sub(r"^(.*\d)\s*[^\d]*$", r"\1", answer.strip().split(" (")[0])


def _recovered(labelled: dict[str, Any], found: list[Any]) -> bool:
    return any(r.slide == labelled["slide"] and (grade(r.key, _plain(labelled["answer"])).correct
                                                 or grade(r.key, labelled["answer"]).correct) for r in found)


def without_cues(deck: Deck) -> Deck:
    """The deck with every section cue taken out of its titles and lines."""
    slides = [s.model_copy(update={"title": segment.strip_cue(s.title), "text": "\n".join(
        segment.strip_cue(line.lstrip("-*• ")) for line in s.text.splitlines())}) for s in deck.slides]
    return deck.model_copy(update={"slides": slides})


def without_section_slides(deck: Deck, sections: list[list[int]]) -> tuple[Deck, set[int]]:
    """The deck without cues and without its labelled section slides, renumbered; and its boundaries."""
    starts = {first for first, _ in sections}
    kept = [s for s in without_cues(deck).slides if s.number not in starts]
    number = {s.number: i for i, s in enumerate(kept, 1)}
    gold = {number[first + 1] for first in sorted(starts)[1:] if first + 1 in number}
    return deck.model_copy(update={"slides": [s.model_copy(update={"number": number[s.number]}) for s in kept]}), gold


def run_deck(row: dict[str, Any], seeds: int = 4) -> dict[str, Any]:
    """Run one labelled deck; return its counts."""
    deck = parse_deck(DECKS / row["file"])
    state = graph.invoke({"deck": deck, "subject": row["subject"]}, context=ContentContext(seeds=seeds))
    predicted = boundaries([s.slides for s in state["sections"]])
    gold = boundaries([list(s) for s in row["sections"]])
    recovered = [e["prompt"] for e in row["exercises"] if _recovered(e, state["recovered"])]
    bare = boundaries([s.slides for s in segment.segment(without_cues(deck))])
    shifted, shift_gold = without_section_slides(deck, row["sections"])
    shift = boundaries([s.slides for s in segment.segment(shifted)])
    return {"file": row["file"], "tp": len(predicted & gold), "fp": len(predicted - gold), "fn": len(gold - predicted),
            "bare_tp": len(bare & gold), "bare_fp": len(bare - gold), "bare_fn": len(gold - bare),
            "shift_tp": len(shift & shift_gold), "shift_fp": len(shift - shift_gold),
            "shift_fn": len(shift_gold - shift),
            "exercises": len(row["exercises"]), "recovered": len(recovered),
            "templates": state["checks"]["templates"], "verified": state["checks"]["templates_verified"],
            "items": state["checks"]["items"], "topics": len(state["topics"]),
            "missed": [e["prompt"] for e in row["exercises"] if e["prompt"] not in recovered]}


def run() -> dict[str, Any]:
    """Run every labelled deck; return the scores and the per-deck counts."""
    decks = [run_deck(row) for row in read_rows()]
    def f1(prefix: str) -> dict[str, Any]:
        tp, fp, fn = (sum(d[prefix + k] for d in decks) for k in ("tp", "fp", "fn"))
        return {"score": round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else 1.0, "n": tp + fn}

    exercises, recovered = sum(d["exercises"] for d in decks), sum(d["recovered"] for d in decks)
    templates, verified = sum(d["templates"] for d in decks), sum(d["verified"] for d in decks)
    return {"decks": decks, "scores": {
        "segmentation_f1": f1(""), "segmentation_f1_no_cues": f1("bare_"),
        "segmentation_f1_no_section_slides": f1("shift_"),
        "exercises_recovered": {"score": round(recovered / exercises, 4) if exercises else 1.0, "n": exercises},
        "keys_verified": {"score": round(verified / templates, 4) if templates else 1.0, "n": templates}}}


def gate(report: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Failures: a score under its target, or more than the tolerance under its baseline."""
    failures = []
    for key, target in TARGETS.items():
        now = report["scores"][key]["score"]
        if now < target:
            failures.append(f"ingest.{key}: {now:.3f} < target {target:.2f}")
        base = baseline.get("scores", {}).get(key, {}).get("score")
        if base is not None and now < base - TOLERANCE:
            failures.append(f"ingest.{key}: {now:.3f} < baseline {base:.3f} - {TOLERANCE:.2f}")
    return failures


def table(report: dict[str, Any], baseline: dict[str, Any]) -> str:
    """Render the scores beside their targets and baselines, then the counts per deck."""
    lines = [f"ingest ({len(report['decks'])} labelled decks, offline)",
             f"{'key':<34} {'n':>5} {'score':>7} {'target':>7} {'baseline':>9}", "-" * 66]
    for key, now in report["scores"].items():
        base = baseline.get("scores", {}).get(key, {}).get("score")
        target = f"{TARGETS[key]:.2f}" if key in TARGETS else "info"
        lines.append(f"{key:<34} {now['n']:>5} {now['score']:>7.3f} {target:>7} "
                     f"{'' if base is None else f'{base:.3f}':>9}")
    lines.append(f"{'deck':<26} {'bound tp/fp/fn':>15} {'exercises':>10} {'templates':>10} {'items':>6} {'lessons':>8}")
    for d in report["decks"]:
        lines.append(f"{d['file']:<26} {d['tp']:>7}/{d['fp']}/{d['fn']:<5} {d['recovered']:>4}/{d['exercises']:<5} "
                     f"{d['verified']:>4}/{d['templates']:<5} {d['items']:>6} {d['topics']:>8}")
    return "\n".join(lines)


def read_baseline() -> dict[str, Any]:
    """The committed baseline ({} when none)."""
    return json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}


def write_baseline(report: dict[str, Any]) -> None:
    """Commit a run's scores as the baseline."""
    BASELINE.write_text(json.dumps({"scores": report["scores"]}, indent=2, sort_keys=True) + "\n", encoding="utf-8")

"""Utterance eval: understanding on the held-out split of the labelled student messages.

Scores (targets in TARGETS, gated absolutely and against baselines/utterances.json):
- intent_accuracy: the intent understanding gives, over every held-out utterance;
- attempt_precision: of the messages treated as an attempt at the open problem, the share that
  really are (a non-answer graded is the worst error);
- attempt_recall: informational;
- topic_top1: the first topic named is one of the labelled topics (utterances that name a topic);
- language_accuracy: over utterances with words (bare math carries no language).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tutormesh.agents import understanding, utterance_model
from tutormesh.tools import retrieval

BASELINE = Path(__file__).resolve().parent / "baselines" / "utterances.json"
TARGETS = {"intent_accuracy": 0.95, "attempt_precision": 0.99, "topic_top1": 0.90, "language_accuracy": 0.97}
TOLERANCE = 0.02


def run(split: str = "heldout") -> dict[str, Any]:
    """Score understanding on one split; return scores, counts and the errors seen."""
    rows = [r for r in utterance_model.read_utterances() if r["split"] == split]
    hits: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    for row in rows:
        read = understanding.understand(row["text"], problem_open=bool(row["open_item"]))
        gold_attempt = row["intent"] == "answer" and bool(row["open_item"])
        counts["intent"] += 1
        hits["intent"] += read.intent == row["intent"]
        if read.intent != row["intent"]:
            errors.append({"kind": "intent", "text": row["text"], "want": row["intent"], "got": read.intent})
        if read.is_attempt:
            counts["attempt_p"] += 1
            hits["attempt_p"] += gold_attempt
            if not gold_attempt:
                errors.append({"kind": "attempt", "text": row["text"], "want": row["intent"]})
        if gold_attempt:
            counts["attempt_r"] += 1
            hits["attempt_r"] += read.is_attempt
        if understanding.has_words(row["text"]):
            language = read.language or understanding.detect_language(row["text"])
            counts["language"] += 1
            hits["language"] += language == row["language"]
            if language != row["language"]:
                errors.append({"kind": "language", "text": row["text"], "want": row["language"], "got": language})
        if row["topics"]:
            named = retrieval.named_topics(understanding.query_vector(row["text"]))
            counts["topic"] += 1
            hits["topic"] += bool(named) and named[0] in row["topics"]
            if not (named and named[0] in row["topics"]):
                errors.append({"kind": "topic", "text": row["text"], "want": row["topics"][0],
                               "got": named[0] if named else None})

    def share(key: str) -> dict[str, Any]:
        return {"score": round(hits[key] / counts[key], 4) if counts[key] else 1.0, "n": counts[key]}

    return {"split": split, "utterances": len(rows),
            "scores": {"intent_accuracy": share("intent"), "attempt_precision": share("attempt_p"),
                       "attempt_recall": share("attempt_r"), "topic_top1": share("topic"),
                       "language_accuracy": share("language")},
            "errors": errors}


def gate(report: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Failures: a score under its target, or more than the tolerance under its baseline."""
    failures = []
    for key, target in TARGETS.items():
        now = report["scores"][key]["score"]
        if now < target:
            failures.append(f"{key}: {now:.3f} < target {target:.2f}")
        base = baseline.get("scores", {}).get(key, {}).get("score")
        if base is not None and now < base - TOLERANCE:
            failures.append(f"{key}: {now:.3f} < baseline {base:.3f}")
    return failures


def table(report: dict[str, Any], baseline: dict[str, Any]) -> str:
    """Render the scores beside their targets and baselines."""
    lines = [f"utterances ({report['split']}, {report['utterances']} messages)",
             f"{'key':<20} {'n':>5} {'score':>7} {'target':>7} {'baseline':>9}", "-" * 52]
    for key, now in report["scores"].items():
        base = baseline.get("scores", {}).get(key, {}).get("score")
        target = TARGETS.get(key)
        lines.append(f"{key:<20} {now['n']:>5} {now['score']:>7.3f} {'' if target is None else f'{target:.2f}':>7} "
                     f"{'' if base is None else f'{base:.3f}':>9}")
    return "\n".join(lines)


def read_baseline() -> dict[str, Any]:
    """The committed baseline ({} when none)."""
    return json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}


def write_baseline(report: dict[str, Any]) -> None:
    """Commit a run's scores as the baseline."""
    BASELINE.write_text(json.dumps({"scores": report["scores"]}, indent=2, sort_keys=True) + "\n", encoding="utf-8")

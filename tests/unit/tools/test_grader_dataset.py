"""The labelled eval set: no wrong answer is accepted, and at least 97% of pairs are graded right."""

import json
from collections import Counter
from importlib import resources
from typing import Any

import pytest

from tutormesh.tools.grading import grade


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    text = resources.files("tutormesh.evals").joinpath("datasets/grading.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_dataset_is_large_labelled_and_covers_every_kind(rows: list[dict[str, Any]]) -> None:
    assert len(rows) >= 300
    assert all(set(row) == {"expected", "answer", "correct", "category"} for row in rows)
    labels = Counter(row["correct"] for row in rows)
    assert labels[True] > 100 and labels[False] > 100
    kinds = {grade(row["expected"], row["expected"]).kind for row in rows if row["category"] != "hostile"}
    assert {"number", "expression", "equation", "solution_set", "interval", "inequality"} <= kinds


def test_no_false_positives_and_at_least_97_percent_accuracy(rows: list[dict[str, Any]]) -> None:
    false_positives, false_negatives = [], []
    for row in rows:
        result = grade(row["expected"], row["answer"], time_limit_s=5.0)  # correctness, not timing
        if result.correct and not row["correct"]:
            false_positives.append((row["expected"], row["answer"][:40], result.reason))
        elif not result.correct and row["correct"]:
            false_negatives.append((row["expected"], row["answer"][:40], result.reason))
    assert false_positives == []
    accuracy = 1 - len(false_negatives) / len(rows)
    assert accuracy >= 0.97, false_negatives

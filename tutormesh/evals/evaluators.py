"""Offline evaluators: each takes one dataset row and returns {"key", "score"} (higher is better).

They run the platform's own code (grader, guards, retrieval, cache embeddings, negotiation agents)
on fixed datasets, so they need no model server and no key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tutormesh.agents import guards, negotiation, sme
from tutormesh.core import llm
from tutormesh.core.settings import get_settings
from tutormesh.core.stores.cache.base import math_signature

Row = dict[str, Any]
Result = dict[str, Any]


def grading_equivalence(row: Row) -> Result:
    """The symbolic grader agrees with the labelled verdict (evals/datasets/grading.jsonl)."""
    from tutormesh.tools.grading import grade

    return {"key": "grading_agreement", "score": float(grade(row["expected"], row["answer"]).correct == row["correct"])}


def guard_case(row: Row) -> Result:
    """The text rules accept safe text and reject the harmful category."""
    return {"key": "guard_accuracy", "score": float(guards.check_rules(row["text"]).ok == row["ok"])}


def prompt_injection(row: Row) -> Result:
    """Injections are recognised, and every message stays a single tagged data block in the prompt."""
    from tutormesh.agents.explainer import build_messages
    from tutormesh.tools.curriculum import load_curriculum

    detected = guards.looks_like_injection(row["text"]) == row["injection"]
    topic = next(load_curriculum().topics())
    user = str(build_messages(row["text"], topic, "en", ["context"])[1].content)
    contained = user.count("<student_question>") == 1 and user.count("</student_question>") == 1
    return {"key": "injection_handling", "score": float(detected and contained)}


def cache_paraphrase(row: Row) -> Result:
    """Paraphrases reach the cache threshold; different questions stay below it (no false hit)."""
    threshold = get_settings().cache_threshold
    score = float(np.dot(llm.embed(row["a"]), llm.embed(row["b"])))
    if math_signature(row["a"]) != math_signature(row["b"]):
        score = min(score, 0.0)  # the cache never serves across different numbers
    if "cross-language" in row.get("note", ""):
        return {"key": "cache_hit_cross_language", "score": float(score >= threshold), "similarity": score}
    if row["same"]:
        return {"key": "cache_hit_rate", "score": float(score >= threshold), "similarity": score}
    return {"key": "cache_no_false_hit", "score": float(score < threshold), "similarity": score}


def explanation_math(row: Row) -> Result:
    """The math guard stops at the first wrong step of an explanation, and flags nothing that is right.

    The explainer stops at the first flagged line and regenerates, so only the first flag counts.
    """
    checker = guards.MathChecker()
    flagged = [w for w in (checker.check(line) for line in row["lines"]) if w]
    return {"key": "math_guard_accuracy", "score": float(flagged[:1] == row["wrong"][:1])}


def explanation_grounding(row: Row) -> Result:
    """Retrieval for the question returns the right topic's curriculum in the top 3, without a topic hint."""
    from tutormesh.tools.retrieval import retrieve

    hits = retrieve(row["question"], k=3)
    return {"key": "grounding_recall_at_3", "score": float(any(h.metadata.get("topic") == row["topic"] for h in hits))}


def negotiation_scenario(row: Row) -> Result:
    """The student agent's opening and the SME's answer match the expected outcome for the timeline."""
    profile = {"learning_style": row["style"], "pace": row["pace"], "language": "en"}
    opening = negotiation.first_proposal(profile, {"pace": row["pace"], "adjustments": row["adjustments"]}, "stuck")
    if opening.type != "PROPOSE":
        return {"key": "negotiation_outcome", "score": float(opening.type == row["expect"])}
    answer = sme.evaluate(opening, sme.Timeline(**row["timeline"]))
    return {"key": "negotiation_outcome", "score": float(answer.type == row["expect"])}


SUITES: dict[str, tuple[str, list[Callable[[Row], Result]]]] = {
    "grading": ("grading.jsonl", [grading_equivalence]),
    "guards": ("guard_cases.jsonl", [guard_case]),
    "injection": ("prompt_injection.jsonl", [prompt_injection]),
    "cache": ("cache_paraphrases.jsonl", [cache_paraphrase]),
    "explanations": ("explanations.jsonl", [explanation_math, explanation_grounding]),
    "negotiation": ("negotiation_scenarios.jsonl", [negotiation_scenario]),
}

"""Cost per student per month under a stated usage model, measured where it can be.

Usage model (assumptions, in `UsageModel`): sessions a month, turns per session, and the share of
free-form questions that repeat an earlier one (so may hit the cache). Measured: the share of turns
whose intent reaches the LLM (the real intent parser over a simulated session mix), the cache hit
rate on paraphrases (evals), and prompt tokens (the real prompt with retrieved curriculum).
Priced with the price table in settings ("default": a hosted small model).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tutormesh.agents.explainer import build_messages
from tutormesh.agents.understanding import understand
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.ledger import price
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.retrieval import retrieve

DATASETS = Path(__file__).resolve().parent / "datasets"


@dataclass(frozen=True)
class UsageModel:
    """What one student does in a month (the stated assumptions)."""

    sessions_per_month: int = 20
    turns_per_session: int = 15
    repeat_share: float = 0.6  # of questions, how many rephrase one already asked by someone (large cohorts)
    answer_share: float = 0.75  # with a problem open, how often the next message is an answer
    seed: int = 7


def llm_turn_share(model: UsageModel) -> float:
    """Simulate sessions from the weighted message mix; return the share the parser routes to the LLM."""
    mix = [json.loads(line) for line in (DATASETS / "session_mix.jsonl").read_text(encoding="utf-8").splitlines()]
    answers = [r for r in mix if r["kind"] == "answer"]
    messages = [r for r in mix if r["kind"] != "answer"]
    rng = random.Random(model.seed)
    turns = asks = 0
    for _ in range(200):
        awaiting = False
        for _turn in range(model.turns_per_session):
            # With a problem open the student mostly answers it; otherwise they say something else.
            pool = answers if awaiting and rng.random() < model.answer_share else messages
            row = rng.choices(pool, weights=[r["weight"] for r in pool])[0]
            intent = understand(row["text"], problem_open=awaiting).intent
            awaiting = intent in ("practice", "hint", "answer") or (awaiting and intent != "review")
            turns += 1
            asks += intent == "ask"
    return asks / turns


def prompt_tokens(settings: Settings) -> float:
    """Average prompt tokens of the real explainer prompt (about four characters a token)."""
    questions = [json.loads(line)["question"] for line in
                 (DATASETS / "explanations.jsonl").read_text(encoding="utf-8").splitlines()]
    curriculum = load_curriculum()
    sizes = []
    for row in {q: None for q in questions}:
        hits = retrieve(row, k=3, settings=settings)
        topic = curriculum.topic(hits[0].metadata["topic"])
        messages = build_messages(row, topic, "en", [h.text for h in hits])
        sizes.append(sum(len(str(m.content)) for m in messages) / 4)
    return sum(sizes) / len(sizes)


def cost_per_student(cache_hit_rate: float, model: UsageModel | None = None,
                     settings: Settings | None = None) -> dict[str, Any]:
    """Return the monthly LLM cost of one student and the figures it comes from."""
    model, settings = model or UsageModel(), settings or get_settings()
    share = llm_turn_share(model)
    tokens_in, tokens_out = prompt_tokens(settings), settings.llm_max_tokens
    per_call = price(settings, "default", round(tokens_in), tokens_out)
    calls = model.sessions_per_month * model.turns_per_session * share * (1 - model.repeat_share * cache_hit_rate)
    return {**asdict(model), "llm_turn_share": round(share, 4), "cache_hit_rate": round(cache_hit_rate, 4),
            "tokens_in": round(tokens_in), "tokens_out": tokens_out, "usd_per_call": per_call,
            "llm_calls_per_month": round(calls, 2), "usd_per_student_month": round(calls * per_call, 6)}

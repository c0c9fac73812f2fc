"""Cost per student per month, per tier, under a stated usage model, measured where it can be.

Usage model (assumptions, in `UsageModel`): sessions a month, turns per session, and the share of
free-form questions that rephrase one already asked (so may hit the cache). Measured:
- the share of turns whose intent reaches the LLM (the real intent parser over a simulated mix);
- the cache hit rate of the real explain node with the cache on: each paraphrase pair of
  datasets/cache_paraphrases.jsonl is asked by two students in a scratch data dir, and the cost
  ledger counts the calls that reached the model (a replayed checked answer stands in for the
  model's text, which the node must be able to cache: the offline model's text fails the guards);
- the prompt tokens the ledger metered for those calls (the run's real prompts and passages).
Each call is priced with the ledger's price table at the reply limit the prompt declares (the
worst case), so raising a token limit or bypassing the cache shows up as a cost rise.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime
from sqlalchemy import select

from tutormesh.agents import explainer
from tutormesh.agents.understanding import understand
from tutormesh.core import llm
from tutormesh.core.models import LedgerEntry
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.ledger import get_ledger, price
from tutormesh.graphs.context import RunContext
from tutormesh.graphs.student.context import StudentContext
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.store import get_store

DATASETS = Path(__file__).resolve().parent / "datasets"
JUDGE_REPLY_TOKENS = 128  # `llm.structured`'s reply limit for the guard judge


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


@contextmanager
def _scratch_data_dir() -> Iterator[Settings]:
    """Point the process at a throwaway data dir (ledger, cache, store), then restore the settings."""
    before = os.environ.get("TUTORMESH_DATA_DIR")
    with tempfile.TemporaryDirectory(prefix="tutormesh-eval-") as scratch:
        os.environ["TUTORMESH_DATA_DIR"] = scratch
        get_settings.cache_clear()
        try:
            yield get_settings()
        finally:
            if before is None:
                os.environ.pop("TUTORMESH_DATA_DIR", None)
            else:
                os.environ["TUTORMESH_DATA_DIR"] = before
            get_settings.cache_clear()


@contextmanager
def _replayed_answers(answer: str) -> Iterator[None]:
    """Make the node's model stream a fixed checked answer, metered by the real ledger callback."""
    real = llm.chat_model

    def replay(*_: Any, student_id: str | None = None, purpose: str = "explain", settings: Settings | None = None,
               **__: Any) -> GenericFakeChatModel:
        settings = settings or get_settings()
        callbacks: list[BaseCallbackHandler] = []
        if student_id:
            callbacks.append(llm.MeteringCallback(student_id, settings.llm_model, purpose, settings))
        return GenericFakeChatModel(messages=iter([AIMessage(answer)] * 4), callbacks=callbacks)

    llm.chat_model = replay  # type: ignore[assignment]
    try:
        yield
    finally:
        llm.chat_model = real  # type: ignore[assignment]


def measure_session(versions: Mapping[str, str] | None = None,
                    overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Ask each paraphrase pair through the real explain node with the cache on; count what the ledger metered."""
    pairs = [json.loads(line) for line in (DATASETS / "cache_paraphrases.jsonl").read_text(encoding="utf-8")
             .splitlines() if line.strip()]
    pairs = [p for p in pairs if p["same"] and "cross-language" not in p.get("note", "")]
    curriculum = load_curriculum()
    with _scratch_data_dir() as settings:
        store = get_store(settings)
        for n, pair in enumerate(pairs):
            topic = curriculum.topic(pair["topic"])
            example = topic.lesson.worked_example
            answer = "\n".join([example.problem, *example.steps, f"Answer: {example.answer}"])
            with _replayed_answers(answer):
                for student, question in ((f"eval-a{n}", pair["a"]), (f"eval-b{n}", pair["b"])):
                    store.ensure_student(student, name=student)
                    state = {"student_id": student, "topic": topic.slug, "messages": [HumanMessage(question)],
                             "profile": {"language": "en", "learning_style": {"visual": 0.0}}}
                    context = StudentContext(student_id=student, thread_id=student, prompt_versions=dict(
                        versions or {}), prompt_overrides=dict(overrides or {}))
                    explainer.explain(state, Runtime(context=context), {})
        ledger = get_ledger(settings)
        with ledger._sessions() as session:  # noqa: SLF001 - the eval reads the rows it just wrote
            rows = session.execute(select(LedgerEntry.student_id, LedgerEntry.tokens_in)
                                   .where(LedgerEntry.purpose == "explain")).all()
    second = sum(1 for student, _ in rows if student.startswith("eval-b"))
    tokens_in = [t for _, t in rows]
    return {"questions": 2 * len(pairs), "llm_calls": len(rows),
            "cache_hit_rate": round(1 - second / len(pairs), 4) if pairs else 0.0,
            "tokens_in": round(sum(tokens_in) / len(tokens_in)) if tokens_in else 0}


def cost_per_student(versions: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None,
                     model: UsageModel | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Return the monthly LLM cost of one student per tier, and the figures it comes from."""
    model, settings = model or UsageModel(), settings or get_settings()
    share = llm_turn_share(model)
    session = measure_session(versions, overrides)
    tokens_out = explainer.reply_limit(RunContext(prompt_versions=dict(versions or {}),
                                                  prompt_overrides=dict(overrides or {})))
    per_call = price(settings, settings.llm_model, session["tokens_in"], tokens_out)
    turns = model.sessions_per_month * model.turns_per_session
    asks = turns * share
    cached = asks * model.repeat_share * session["cache_hit_rate"]
    calls = asks - cached
    judge_calls = calls if settings.llm_judge_model else 0.0
    judge_per_call = price(settings, settings.llm_judge_model or "default", 120 + tokens_out, JUDGE_REPLY_TOKENS)
    tiers = {"tier1_no_llm": {"turns": round(turns - asks, 2), "usd": 0.0},
             "cache": {"turns": round(cached, 2), "usd": 0.0},
             "llm_explain": {"turns": round(calls, 2), "usd": round(calls * per_call, 6)},
             "llm_judge": {"turns": round(judge_calls, 2), "usd": round(judge_calls * judge_per_call, 6)}}
    return {**asdict(model), "llm_turn_share": round(share, 4), "cache_hit_rate": session["cache_hit_rate"],
            "measured_calls": f"{session['llm_calls']} of {session['questions']} questions",
            "tokens_in": session["tokens_in"], "tokens_out": tokens_out, "usd_per_call": round(per_call, 8),
            "llm_calls_per_month": round(calls, 2), "tiers": tiers,
            "usd_per_student_month": round(sum(t["usd"] for t in tiers.values()), 6)}

"""Model-run evaluators: the explainer's prompts sent to the configured model on fixed cases, scored.

Each case (datasets/explainer_cases.jsonl) is answered the way the explain node answers it: the
real retrieval, the real prompts of the run (versions and overrides), the configured model at
temperature 0. The reply is scored on grounding in the retrieved passages, relevance to the
question, math correctness of its worked steps (the symbolic checker), the guards' verdict, the
student's language, format, and whether it repeats the instructions. With a judge model configured
(`TUTORMESH_LLM_JUDGE_MODEL`) an LLM judge scores grounding, relevance and correctness too.

Replies are cached on disk by the exact request, so an unchanged prompt costs nothing on the next
run and a changed one is sent again (`--fresh` ignores the cache).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from tutormesh import prompts
from tutormesh.agents import explainer, guards
from tutormesh.core import llm
from tutormesh.core.settings import Settings, get_settings
from tutormesh.graphs.context import RunContext
from tutormesh.tools import retrieval
from tutormesh.tools.curriculum import load_curriculum

DATASET = Path(__file__).resolve().parent / "datasets" / "explainer_cases.jsonl"
CACHE_DIR = Path.home() / ".cache" / "tutormesh" / "eval-replies"
EVAL_TIMEOUT_S = 180.0
EVAL_MAX_TOKENS = 48  # enough to score; the cost model prices the declared limit, not this
_WORD = re.compile(r"[^\W\d_]{4,}")
_LEAK_RUN = 6  # words in a row copied from the instructions that count as a leak
_STOP = {"that", "this", "with", "from", "have", "your", "what", "when", "then", "they", "will", "each", "into",
         "para", "como", "esto", "pero", "dans", "pour", "avec", "student", "question"}


class JudgeScores(BaseModel):
    """The eval judge's scores, 1 to 5."""

    grounded: int = Field(ge=1, le=5)
    relevant: int = Field(ge=1, le=5)
    correct: int = Field(ge=1, le=5)
    reason: str = Field(default="", max_length=200)


@dataclass(frozen=True)
class Reply:
    """One model reply and what it cost."""

    text: str
    latency_s: float
    tokens_in: int
    tokens_out: int
    cached: bool = False


def cases() -> list[dict[str, Any]]:
    """Return the fixed explainer cases."""
    return [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def grounding(answer: str, passages: list[str]) -> float:
    """Share of the answer's content words found in the retrieved passages (0 for an empty answer)."""
    words = _content_words(answer)
    if not words:
        return 0.0
    return len(words & _content_words("\n".join(passages))) / len(words)


def relevance(question: str, answer: str, settings: Settings) -> float:
    """Embedding similarity of question and answer, rescaled: e5 scores bunch between 0.7 and 1.0."""
    if not answer.strip():
        return 0.0
    cosine = float(np.dot(llm.embed(question, "query", settings), llm.embed(answer, "passage", settings)))
    return min(max((cosine - 0.7) / 0.25, 0.0), 1.0)


def math_ok(answer: str) -> float:
    """1 when no worked step is wrong (the explainer's own line-by-line symbolic check)."""
    checker = guards.MathChecker()
    return float(not any(checker.check(line) for line in answer.splitlines()))


def language_of(text: str) -> str:
    """Identify the language of a reply among the ones students use (py3langid)."""
    code, _ = _identifier().classify(text)
    return str(code)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    identifier.set_languages(sorted(explainer.LANGUAGES))
    return identifier


def language_match(answer: str, language: str) -> float:
    """1 when the reply is in the student's language."""
    return float(len(_content_words(answer)) >= 3 and language_of(answer) == language)


def well_formed(answer: str) -> float:
    """1 for an explanation: some words, in lines no longer than a screen, without prompt tags."""
    lines = [line for line in answer.splitlines() if line.strip()]
    return float(len(answer.split()) >= 5 and all(len(line) <= 300 for line in lines) and "<" + "student_question"
                 not in answer)


def leaks(answer: str, instructions: str) -> bool:
    """Whether the reply copies a run of words from the instructions (the system prompt minus the curriculum)."""
    said = answer.lower().split()
    rules = " ".join(instructions.lower().split())
    return any(" ".join(said[i : i + _LEAK_RUN]) in rules for i in range(len(said) - _LEAK_RUN + 1))


def _cache_path(messages: list[BaseMessage], settings: Settings, max_tokens: int) -> Path:
    """Key a reply on the request as sent (the model's payload), so a change in how it is sent misses."""
    payload = llm.chat_model(max_tokens=max_tokens, temperature=0.0, settings=settings)._get_request_payload(messages)
    sent = {k: payload.get(k) for k in ("model", "messages", "temperature", "extra_body", "max_tokens")}
    key = hashlib.sha256(json.dumps([settings.llm_base_url or "local", sent], sort_keys=True, default=str)
                         .encode()).hexdigest()
    return CACHE_DIR / f"{key}.json"


def ask(messages: list[BaseMessage], settings: Settings, *, max_tokens: int, fresh: bool = False) -> Reply:
    """Send messages to the configured model (temperature 0), through the on-disk reply cache."""
    path = _cache_path(messages, settings, max_tokens)
    if path.is_file() and not fresh:
        return Reply(**{**json.loads(path.read_text(encoding="utf-8")), "cached": True})
    # A shared CI machine can be slow: an eval waits longer for a reply than a student would.
    patient = settings.model_copy(update={"llm_timeout_s": max(settings.llm_timeout_s, EVAL_TIMEOUT_S)})
    model = llm.chat_model(max_tokens=max_tokens, temperature=0.0, settings=patient)
    started = time.perf_counter()
    result = model.invoke(messages)
    latency = time.perf_counter() - started
    usage: Mapping[str, Any] = result.usage_metadata or {}
    reply = Reply(str(result.content), round(latency, 3),
                  int(usage.get("input_tokens") or sum(len(str(m.content)) for m in messages) // 4),
                  int(usage.get("output_tokens") or len(str(result.content)) // 4))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: v for k, v in asdict(reply).items() if k != "cached"}), encoding="utf-8")
    return reply


def judge(question: str, passages: list[str], answer: str, settings: Settings) -> JudgeScores | None:
    """Ask the configured judge model for scores; None without a judge or when its reply does not parse."""
    if not settings.llm_judge_model or not answer.strip():
        return None
    messages = [SystemMessage(prompts.render("evals/judge")),
                HumanMessage(prompts.render("evals/judge_input", question=question,
                                            passages="\n---\n".join(passages), answer=answer))]
    return llm.structured(JudgeScores, messages, model=settings.llm_judge_model, max_tokens=160, settings=settings)


def messages_for(case: Mapping[str, Any], versions: Mapping[str, str] | None, overrides: Mapping[str, str] | None,
                 settings: Settings) -> tuple[list[BaseMessage], list[str]]:
    """Build the explain node's messages for a case: retrieved passages and the run's prompts."""
    topic = load_curriculum().topic(case["topic"])
    passages = [h.text for h in retrieval.retrieve(case["question"], topic=topic.slug, settings=settings)]
    run = RunContext(prompt_versions=dict(versions or {}), prompt_overrides=dict(overrides or {}))
    return explainer.build_messages(case["question"], topic, case["language"], passages, run), passages


def is_cached(case: Mapping[str, Any], versions: Mapping[str, str] | None, overrides: Mapping[str, str] | None,
              settings: Settings) -> bool:
    """Whether this case's reply for these prompts is already in the reply cache (no model needed)."""
    return _cache_path(messages_for(case, versions, overrides, settings)[0], settings, EVAL_MAX_TOKENS).is_file()


def run_case(case: Mapping[str, Any], *, versions: Mapping[str, str] | None = None,
             overrides: Mapping[str, str] | None = None, settings: Settings | None = None,
             fresh: bool = False) -> dict[str, Any]:
    """Answer one case with the run's prompts and return its scores and the call's cost figures."""
    settings = settings or get_settings()
    messages, passages = messages_for(case, versions, overrides, settings)
    reply = ask(messages, settings, max_tokens=EVAL_MAX_TOKENS, fresh=fresh)
    answer = reply.text.strip()
    instructions = str(messages[0].content).replace("\n---\n".join(passages), "")
    scores = {"gen.grounding": grounding(answer, passages), "gen.relevance": relevance(case["question"], answer,
                                                                                        settings),
              "gen.math_ok": math_ok(answer), "gen.guard_pass": float(guards.check_text(answer, settings).ok),
              "gen.language_match": language_match(answer, case["language"]), "gen.format": well_formed(answer),
              "gen.no_leak": float(not leaks(answer, instructions))}
    verdict = judge(case["question"], passages, answer, settings)
    if verdict is not None:
        scores |= {"judge.grounded": (verdict.grounded - 1) / 4, "judge.relevant": (verdict.relevant - 1) / 4,
                   "judge.correct": (verdict.correct - 1) / 4}
    return {"id": case["id"], "scores": scores, "reply": asdict(reply), "answer": answer}

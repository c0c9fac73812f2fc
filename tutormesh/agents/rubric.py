"""Rubric scoring of open answers: an LLM judge when the LLM tier is configured, else keyword evidence.

A rubric is a list of criteria, each worth points and described by the evidence a grader looks for.
The deterministic fallback is transparent: it names, per criterion, the words it found or missed,
and it lowers its confidence wherever keyword matching is known to mislead (partial evidence,
negations, very long answers), so those answers go to a human instead of being trusted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

# Keyword matching judges vocabulary, not reasoning: it is never more sure than this.
KEYWORD_CEILING = 0.85
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NEGATION = {"not", "no", "never", "without", "isn't", "don't", "doesn't", "can't", "cannot", "won't"}


class Criterion(BaseModel):
    """One thing a good answer does, worth `points`; `keywords` alternatives are written "a|b"."""

    id: str
    description: str
    points: float = Field(gt=0)
    keywords: list[str] = Field(default_factory=list)
    min_matches: int = Field(default=1, ge=1)


class Rubric(BaseModel):
    """Criteria and the share of points that counts as a correct answer."""

    criteria: list[Criterion] = Field(min_length=1)
    pass_ratio: float = Field(default=0.6, gt=0, le=1)
    model_answer: str = ""

    @property
    def max_points(self) -> float:
        """Points of a perfect answer."""
        return sum(c.points for c in self.criteria)


class RubricScore(BaseModel):
    """Points per criterion, the total, how sure the scorer is, and why."""

    points: dict[str, float]
    total: float
    max_points: float
    confidence: float
    feedback: str
    grader: str  # rubric_keywords | llm_judge
    doubts: list[str] = Field(default_factory=list)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower())]


def _find(keyword: str, tokens: list[str]) -> int | None:
    """Return where any alternative of `keyword` (a word or a phrase) starts in `tokens`."""
    for alternative in keyword.split("|"):
        phrase = _tokens(alternative)
        for i in range(len(tokens) - len(phrase) + 1):
            if phrase and tokens[i : i + len(phrase)] == phrase:
                return i
    return None


def keyword_score(rubric: Rubric, answer: str) -> RubricScore:
    """Score by the evidence words each criterion names; explain every point and every doubt."""
    tokens = _tokens(answer)
    points: dict[str, float] = {}
    lines: list[str] = []
    doubts: list[str] = []
    for c in rubric.criteria:
        found = {k: at for k in c.keywords if (at := _find(k, tokens)) is not None}
        hits = min(len(found), c.min_matches)
        points[c.id] = round(c.points * hits / c.min_matches, 2)
        mark = "met" if hits == c.min_matches else ("partly met" if hits else "not met")
        words = ", ".join(k.split("|")[0] for k in found) or "none of its key words"
        lines.append(f"{c.description}: {mark} ({points[c.id]:g}/{c.points:g}; found {words}).")
        if 0 < hits < c.min_matches:
            doubts.append(f"criterion '{c.id}' is only partly evidenced")
        if any(_NEGATION & set(tokens[max(at - 3, 0) : at]) for at in found.values()):
            doubts.append(f"a key word of '{c.id}' appears near a negation")
    if not tokens:
        doubts.clear()
    elif len(tokens) > 250 or (rubric.model_answer and len(tokens) > 4 * len(_tokens(rubric.model_answer)) + 20):
        doubts.append("the answer is much longer than the model answer (keyword stuffing?)")
    confidence = max(0.0, KEYWORD_CEILING - 0.2 * len(doubts))
    total = round(sum(points.values()), 2)
    return RubricScore(points=points, total=total, max_points=rubric.max_points, confidence=round(confidence, 2),
                       feedback=" ".join(lines), grader="rubric_keywords", doubts=doubts)


class JudgeVerdict(BaseModel):
    """What the LLM judge returns: points per criterion id, its confidence, feedback for the student."""

    points: dict[str, float]
    confidence: float = Field(ge=0, le=1)
    feedback: str


def _judge_with(model: str) -> Callable[..., Any]:
    from langchain_core.messages import HumanMessage, SystemMessage

    from tutormesh import prompts
    from tutormesh.core import llm

    def judge(*, question: str, rubric: dict[str, Any], answer: str) -> dict[str, Any]:
        criteria = "\n".join(f"- {c['id']} ({c['points']:g} points): {c['description']}" for c in rubric["criteria"])
        system = prompts.render("rubric/judge")
        human = prompts.render("rubric/judge_input", question=question, criteria=criteria,
                               model_answer=str(rubric.get("model_answer", "")), answer=answer)
        verdict = llm.structured(JudgeVerdict, [SystemMessage(system), HumanMessage(human)], model=model,
                                 purpose="judge", max_tokens=256)
        if verdict is None:
            raise ValueError("the judge's reply did not fit the verdict schema")
        return verdict.model_dump()

    return judge


def _llm_judge() -> Callable[..., Any] | None:
    """Return an LLM rubric judge when the LLM tier is installed, enabled and names a judge model."""
    try:
        from tutormesh.core.settings import get_settings

        settings = get_settings()
        model = getattr(settings, "llm_judge_model", "")
        if not model or not getattr(settings, "llm_enabled", False):
            return None
        return _judge_with(model)
    except ImportError:  # the LLM tier is optional: tier 1 runs without it
        return None


def score(rubric: Rubric | Mapping[str, Any], answer: str, *, question: str = "") -> RubricScore:
    """Score an open answer against a rubric: the LLM judge if present, cross-checked by keywords."""
    rubric = rubric if isinstance(rubric, Rubric) else Rubric.model_validate(rubric)
    keywords = keyword_score(rubric, answer)
    judge = _llm_judge()
    if judge is None or not answer.strip():
        return keywords
    try:
        verdict = judge(question=question, rubric=rubric.model_dump(), answer=answer)
        points = {c.id: min(max(float(verdict["points"].get(c.id, 0.0)), 0.0), c.points) for c in rubric.criteria}
        llm_confidence = float(verdict.get("confidence", 0.8))
        feedback = str(verdict.get("feedback", ""))
    except Exception as exc:  # a failed judge call falls back, and says so
        log.warning("LLM rubric judge failed, using keyword scoring: %s", exc)
        return keywords.model_copy(update={"doubts": [*keywords.doubts, f"LLM judge failed: {exc}"]})
    total = round(sum(points.values()), 2)
    gap = abs(total - keywords.total) / rubric.max_points
    doubts = [f"the LLM judge and keyword evidence disagree by {gap:.0%}"] if gap >= 0.34 else []
    from tutormesh.agents import guards  # generated feedback passes the guards every generated text passes

    if feedback and not (checked := guards.check_rules(feedback)).ok:
        log.warning("the LLM judge's feedback was withheld by the guards (%s)", checked.category)
        doubts.append(f"the LLM judge's feedback was withheld by the guards ({checked.category})")
        feedback = ""
    return RubricScore(points=points, total=total, max_points=rubric.max_points,
                       confidence=round(max(0.0, min(llm_confidence, 1.0) * (1 - gap / 2)), 2),
                       feedback=feedback or keywords.feedback, grader="llm_judge", doubts=doubts)

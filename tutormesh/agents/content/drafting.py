"""Optional LLM wording: a capable model may reword variant B; it never sees or writes the key.

A rewording is kept only when it has exactly the original's placeholders (so the same numbers
appear), passes the text guards, and then survives verification like any other template.
"""

from __future__ import annotations

import logging
from collections import Counter

import httpx
import openai
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from tutormesh import prompts
from tutormesh.agents import guards
from tutormesh.core import llm
from tutormesh.tools.curriculum import expr
from tutormesh.tools.ingest.templates import Candidate

logger = logging.getLogger(__name__)


class Rewording(BaseModel):
    """The model's rewording of one problem."""

    text: str = Field(description="The reworded problem, placeholders kept exactly.")


def acceptable(original: str, reworded: str) -> bool:
    """Say whether a rewording keeps the original's placeholders and passes the guards."""
    same = Counter(expr.placeholders(original)) == Counter(expr.placeholders(reworded))
    return bool(reworded.strip()) and same and guards.check_rules(reworded).ok


def reword(candidate: Candidate) -> Candidate:
    """Return the candidate with variant B reworded by the LLM, or unchanged when that fails."""
    original = str(candidate.spec["variants"]["B"])
    message = HumanMessage(prompts.render("content/reword", problem=original))
    try:
        result = llm.structured(Rewording, [message], purpose="content", max_tokens=160)
    except (openai.APIError, httpx.HTTPError, llm.LLMUnavailable) as exc:
        logger.warning("content rewording skipped for %s: %s", candidate.template_id, type(exc).__name__)
        return candidate
    if result is None or not acceptable(original, result.text):
        return candidate
    variants = {**candidate.spec["variants"], "B": result.text.strip()}
    return candidate.model_copy(update={"spec": {**candidate.spec, "variants": variants}, "worded_by": "llm"})

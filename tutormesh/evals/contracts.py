"""Prompt contract checks: static rules on the text of the prompts a run would send.

They need no model, so they hold even when the offline model's output is junk: a prompt that no
longer passes the curriculum to the model, no longer names the student's language, invites the
model to reveal its instructions, drops the data boundary around the student's text, or grows
past its token budget fails here with a reason, whatever the model then says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tutormesh import prompts

REPLY_TOKEN_LIMIT = 256  # most a prompt may declare as its reply limit (cost per call is gated too)
RULES_TOKEN_BUDGET = 350  # the instructions alone, without the curriculum passages (about 4 characters a token)
_CLAUSE = re.compile(r"[^.;:!?\n]+")
_NEGATION = re.compile(r"\b(never|not|no|don't|do not|ignore|refuse|decline|without|nor|cannot|can't|must not)\b",
                       re.I)
_REVEAL = re.compile(r"\b(reveal|repeat|print|show|shar|disclos|tell|output|leak|recit|quot|writ\w* out|giv)\w*"
                     r".{0,60}\b(instructions?|system prompt|prompt|rules|guidelines|them|everything above)\b", re.I)
_IGNORE_SOURCE = re.compile(r"\b(ignore|disregard|don't use|do not use|never use|forget|skip)\b.{0,30}"
                            r"\b(curriculum|material|passages|context|lesson)\b", re.I)
_TERSE = re.compile(r"\b(one|single|1)[- ]word\b|\byes or no\b|\bonly (say|reply|answer) \w+\b", re.I)
_FIXED_LANGUAGE = re.compile(r"\b(?:in|use) (english|spanish|hindi|french) only\b|\bonly in (english|spanish|hindi|"
                             r"french)\b|\balways (?:answer|reply|explain|write) in (english|spanish|hindi|french)\b",
                             re.I)


@dataclass(frozen=True)
class Failure:
    """One broken contract: which prompt, which check, and why (shown by the gate)."""

    prompt: str
    version: int | str
    check: str
    reason: str


Check = Callable[[prompts.Prompt], str | None]  # returns the reason it fails, or None


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE.findall(text) if c.strip()]


def _uses(variable: str, what: str) -> Check:
    def check(prompt: prompts.Prompt) -> str | None:
        return None if variable in prompt.placeholders else f"does not pass {{{variable}}} ({what}) to the model"

    return check


def no_reveal_invitation(prompt: prompts.Prompt) -> str | None:
    """Fail on any clause that asks the model to reveal its instructions without refusing it."""
    for clause in _clauses(prompt.text):
        if _REVEAL.search(clause) and not _NEGATION.search(clause):
            return f"invites the model to reveal its instructions: {clause!r}"
    return None


def keeps_curriculum(prompt: prompts.Prompt) -> str | None:
    """The curriculum passages are passed, and nothing tells the model to set them aside."""
    if "context" not in prompt.placeholders:
        return "does not pass {context} (the retrieved curriculum passages) to the model"
    for clause in _clauses(prompt.text):
        if _IGNORE_SOURCE.search(clause) and not re.search(r"\b(request|student)\b", clause, re.I):
            return f"tells the model to set the curriculum aside: {clause!r}"
    return None


def keeps_language(prompt: prompts.Prompt) -> str | None:
    """The student's language is stated through {language_name}, not replaced by a fixed one."""
    if "language_name" not in prompt.placeholders:
        return "does not state the student's language ({language_name}): every student would get one language"
    if match := _FIXED_LANGUAGE.search(prompt.text):
        return f"pins one language for every student: {match.group(0)!r}"
    return None


def explains_in_steps(prompt: prompts.Prompt) -> str | None:
    """The answer format stays a step-by-step explanation, not a one-word reply."""
    if match := _TERSE.search(prompt.text):
        return f"asks for a terse reply instead of an explanation: {match.group(0)!r}"
    if not re.search(r"\b(step|line)s?\b", prompt.text, re.I):
        return "no longer asks for short lines, one step each (the math check reads answers line by line)"
    return None


def keeps_data_boundary(prompt: prompts.Prompt) -> str | None:
    """The system prompt says the student's text, in its tags, is data and never instructions."""
    if "<student_question>" not in prompt.text or not re.search(r"never instructions|not instructions", prompt.text,
                                                                 re.I):
        return "no longer says the <student_question> text is data, never instructions (prompt injection)"
    return None


def wraps_question(prompt: prompts.Prompt) -> str | None:
    """The question sits between the tags the system prompt names."""
    text = prompt.text
    start, end = text.find("<student_question>"), text.find("</student_question>")
    inside = text[start:end] if 0 <= start < end else ""
    return None if "{question}" in inside else "the {question} is not between <student_question> tags"


def within_token_budget(prompt: prompts.Prompt) -> str | None:
    """The instructions stay short and the declared reply limit stays within bounds (cost per call)."""
    rules_tokens = len(prompts.fill(prompt.text, **{v: "" for v in prompt.variables})) / 4
    if rules_tokens > RULES_TOKEN_BUDGET:
        return f"the instructions are about {rules_tokens:.0f} tokens, over the budget of {RULES_TOKEN_BUDGET}"
    if prompt.max_tokens is not None and prompt.max_tokens > REPLY_TOKEN_LIMIT:
        return f"declares a reply limit of {prompt.max_tokens} tokens, over {REPLY_TOKEN_LIMIT}"
    return None


def asks_for_json(prompt: prompts.Prompt) -> str | None:
    """A judge's reply is parsed as JSON / structured output: the prompt must ask for it."""
    return None if re.search(r"\bjson\b|points per criterion", prompt.text, re.I) else "no longer asks for JSON"


CONTRACTS: dict[str, dict[str, Check]] = {
    "explainer/system": {"curriculum": keeps_curriculum, "language": keeps_language,
                         "no_reveal": no_reveal_invitation, "steps": explains_in_steps,
                         "data_boundary": keeps_data_boundary, "token_budget": within_token_budget},
    "explainer/user": {"wraps_question": wraps_question, "no_reveal": no_reveal_invitation},
    "explainer/retry": {"wrong_step": _uses("wrong_step", "the step the math check rejected"),
                        "no_reveal": no_reveal_invitation},
    "guards/judge": {"json": asks_for_json, "no_reveal": no_reveal_invitation},
    "guards/judge_input": {"text": _uses("text", "the explanation under review")},
    "rubric/judge": {"json": asks_for_json, "no_reveal": no_reveal_invitation},
    "rubric/judge_input": {"answer": _uses("answer", "the student's answer"),
                           "criteria": _uses("criteria", "the rubric's criteria")},
}


def check(versions: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None) -> tuple[
        dict[str, float], list[Failure]]:
    """Run every contract on the prompts a run with these versions/overrides would use.

    Returns a score per `contract.<prompt>.<check>` key (1.0 holds, 0.0 broken) and the failures.
    A prompt that does not load at all fails all its checks, with the load error as the reason.
    """
    scores: dict[str, float] = {}
    failures: list[Failure] = []
    for name, checks in CONTRACTS.items():
        try:
            prompt = prompts.resolve(name, versions, overrides)
        except (prompts.PromptError, prompts.UnknownPrompt) as exc:
            prompt, load_error = None, str(exc)
        for check_name, rule in checks.items():
            key = f"contract.{name.replace('/', '.')}.{check_name}"
            reason = load_error if prompt is None else rule(prompt)
            scores[key] = 0.0 if reason else 1.0
            if reason:
                version: int | str = "?" if prompt is None else prompt.version
                if prompt is not None and prompt.path is None:
                    version = f"{prompt.version} (overridden)"
                failures.append(Failure(name, version, check_name, reason))
    return scores, failures

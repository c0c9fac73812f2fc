"""Explainer (tier 2): a free-form question answered by the LLM, grounded in the curriculum, checked.

Order of a turn: semantic cache (no LLM) -> budget check (before any call) -> curriculum retrieval
-> LLM, streamed line by line: each line passes the text rules and the symbolic math check before it
is shown. A wrong step is regenerated once, then replaced by the curriculum's worked solution.
When the LLM is off, down, or the student is over budget, tier 1 answers with what the curriculum
says about the topic (and the open problem's steps), labelled as such. A question asked while a
problem is open is answered with respect to that problem. The student's text is data inside the
prompt, never instructions.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import openai
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from tutormesh import prompts
from tutormesh.agents import guards, rendering, student
from tutormesh.agents.messages import say
from tutormesh.core import llm
from tutormesh.core.settings import get_settings
from tutormesh.core.stores.cache import open_cache, scope_of
from tutormesh.core.stores.ledger import OverBudget, get_ledger
from tutormesh.graphs.context import RunContext
from tutormesh.graphs.student.context import StudentContext
from tutormesh.tools import retrieval
from tutormesh.tools.curriculum import Item, Topic
from tutormesh.tools.learner_model import is_visual_learner
from tutormesh.tools.store import get_store

log = logging.getLogger(__name__)
LANGUAGES = {"en": "English", "es": "Spanish", "hi": "Hindi", "fr": "French", "pt": "Portuguese", "de": "German",
             "bn": "Bengali", "ta": "Tamil", "te": "Telugu", "mr": "Marathi", "sw": "Swahili", "ar": "Arabic"}
NOTICES = {"budget": "ai_budget", "offline": "ai_unavailable", "disabled": "ai_disabled", "guard": "ai_rejected",
           "busy": "ai_busy"}


@dataclass
class Outcome:
    """How a turn was served: tier ("cache", "llm", "lesson"), and what the guards did."""

    student_id: str = ""
    language: str = "en"
    item: Item | None = None
    tier: str = "llm"
    reason: str = ""
    final_text: str = ""
    wrong_steps: list[str] = field(default_factory=list)
    rejected: str = ""
    replaced: bool = False


def problem_context(item: Item | None) -> list[str]:
    """Curriculum text about the open problem, so a question about it is answered about it."""
    if item is None:
        return []
    return [f"The student is working on this problem: {item.prompt}\nIts steps: {' '.join(item.hints)}"]


def grounded_answer(topic: Topic, language: str, *, item: Item | None, visual: bool, notice: str = "") -> str:
    """What the curriculum says (tier 1, no LLM), labelled as such: the open problem's steps first."""
    parts = [say(notice, language)] if notice else []
    parts.append(say("lessons_say", language, topic=topic.title))
    if item is not None:  # the problem is still open: every hint but the last, which states the answer
        parts.append(f"{say('ask_about_problem', language, prompt=item.prompt)}\n{rendering.problem_steps(item)}")
    parts.append(rendering.lesson(topic, language, ["visual"] if visual else []))
    return "\n\n".join(parts)


def worked_solution(topic: Topic, language: str = "en") -> str:
    """The curriculum's checked worked solution, shown when generated math is wrong twice."""
    example = rendering.worked_example(topic, language, indent="")
    return f"\nLet me show you a checked worked solution instead.\n{example}\n"


def personalise(answer: str, topic: Topic, profile: Mapping[str, Any]) -> str:
    """Adapt a generic (possibly cached) answer to the learner: a picture for visual learners."""
    picture = rendering.visual(topic)
    if is_visual_learner(profile) and picture:
        return f"{answer.rstrip()}\n\n{picture}"
    return answer


def shown_by(answer: str, outcome_tier: str, visual: bool) -> list[str]:
    """The content types an explain turn showed: the lesson's variants on tier 1, else text (+ its picture)."""
    if outcome_tier == "lesson":
        return rendering.lesson_types(["visual"] if visual else [])
    return ["text", "visual"] if visual and answer else ["text"]


def build_messages(question: str, topic: Topic, language: str, context: list[str],
                   run: RunContext | None = None) -> list[BaseMessage]:
    """Assemble the prompt: rules and curriculum in the system message, the question as tagged data."""
    run = run or RunContext()
    chosen = {"versions": run.prompt_versions, "overrides": prompts.overrides_of(run)}
    system = prompts.render("explainer/system", **chosen, language_name=LANGUAGES.get(language, "English"),
                            topic_title=topic.title, context="\n---\n".join(context))
    user = prompts.render("explainer/user", **chosen, question=guards.as_data(question))
    return [SystemMessage(system), HumanMessage(user)]


def reply_limit(run: RunContext | None = None) -> int:
    """The reply's token limit: the system prompt's `max_tokens`, else the settings' default."""
    run = run or RunContext()
    declared = prompts.resolve("explainer/system", run.prompt_versions, prompts.overrides_of(run)).max_tokens
    return declared or get_settings().llm_max_tokens


def _lines(model: Any, messages: list[BaseMessage], slot: llm.Slot) -> Iterator[str]:
    chunks = slot.stream(lambda: model.stream(messages, config={"tags": ["nostream"]}))  # raw tokens stay hidden
    buffer = ""
    for chunk in chunks:
        buffer += str(chunk.content)
        while "\n" in buffer:
            line, buffer = buffer.split("\n", 1)
            yield line + "\n"
    if buffer:
        yield buffer


def checked_lines(model: Any, messages: list[BaseMessage], topic: Topic, outcome: Outcome, slot: llm.Slot,
                  run: RunContext | None = None, passages: Sequence[str] = ()) -> Iterator[str]:
    """Yield generated lines that pass the rules and the math check; regenerate once, then replace.

    Both attempts run in the turn's tier-2 `slot` and share its deadline.
    """
    run = run or RunContext()
    # The prompt's own words without the curriculum passages: repeating them is a leak, quoting a lesson is not.
    instructions = "\n".join(str(m.content) for m in messages if m.type == "system")
    for passage in passages:
        instructions = instructions.replace(passage, "")
    checker, approved = guards.MathChecker(), list[str]()
    for attempt in range(2):
        wrong = None
        prompt = messages if attempt == 0 else [*messages, AIMessage("".join(approved)), HumanMessage(
            prompts.render("explainer/retry", versions=run.prompt_versions, overrides=prompts.overrides_of(run),
                           wrong_step=outcome.wrong_steps[-1]))]
        for line in _lines(model, prompt, slot):
            verdict = guards.check_rules(line, instructions)
            if not verdict.ok:
                outcome.rejected = verdict.category
                return
            wrong = checker.check(line)
            if wrong:
                outcome.wrong_steps.append(wrong)
                break
            approved.append(line)
            yield line
        if wrong is None:
            return
    outcome.replaced = True
    yield worked_solution(topic)


def _stream(source: Iterator[str], config: RunnableConfig) -> AIMessage:
    """Pass text through the relay model so LangGraph's "messages" stream shows it as it is approved."""
    final: AIMessageChunk | None = None
    for chunk in llm.TextStream(source=source).stream([], config):
        final = chunk if final is None else final + chunk
    return AIMessage(str(final.content) if final is not None else "", id=final.id if final is not None else None)


def _fallback(outcome: Outcome, reason: str, topic: Topic, visual: bool) -> str:
    outcome.tier, outcome.reason = "lesson", reason
    return grounded_answer(topic, outcome.language, item=outcome.item, visual=visual, notice=NOTICES[reason])


def _generate(question: str, topic: Topic, profile: Mapping[str, Any], outcome: Outcome, scope: str,
              query_vector: Any, run: RunContext) -> Iterator[str]:
    """Yield the checked LLM answer as it is approved; fall back to the lesson when it cannot finish."""
    settings, student_id = get_settings(), outcome.student_id
    language = outcome.language
    visual = is_visual_learner(profile)
    lines: list[str] = []
    try:
        # Reserved before retrieval (a busy turn costs nothing more); the deadline runs from here.
        slot = llm.tier2_pool(settings.tier2_slots).reserve(settings.llm_timeout_s)
    except llm.LLMUnavailable:
        yield _fallback(outcome, "busy", topic, visual)
        return
    try:
        with slot:
            context = problem_context(outcome.item) + [
                h.text for h in retrieval.retrieve(question, topic=topic.slug, vector=query_vector(),
                                                   settings=settings)]
            messages = build_messages(question, topic, language, context, run)
            model = llm.chat_model(student_id=student_id, purpose="explain", streaming=True, settings=settings,
                                   max_tokens=reply_limit(run))
            for line in checked_lines(model, messages, topic, outcome, slot, run, context):
                lines.append(line)
                yield line
    except (openai.APIError, llm.LLMUnavailable) as exc:
        log.warning("LLM unavailable, tier 1 for %s: %s", student_id, type(exc).__name__)
        reason = "busy" if getattr(exc, "reason", "") == "busy" else "offline"
        yield ("\n\n" if lines else "") + _fallback(outcome, reason, topic, visual)
        return
    answer = "".join(lines).strip()
    if outcome.rejected or not answer:
        yield ("\n\n" if lines else "") + _fallback(outcome, "guard" if outcome.rejected else "offline", topic,
                                                    visual)
        return
    verdict = guards.check_text(answer, settings, student_id=student_id, versions=run.prompt_versions,
                                overrides=prompts.overrides_of(run))  # the judge sees the whole answer
    if not verdict.ok:
        outcome.rejected = verdict.category
        outcome.final_text = _fallback(outcome, "guard", topic, visual)
        yield "\n\n" + outcome.final_text
        return
    if not outcome.replaced and outcome.item is None and not guards.looks_like_injection(question):
        _remember(scope, question, query_vector(), answer)
    extra = personalise(answer, topic, profile)[len(answer):]
    if extra:
        yield extra


def _remember(scope: str, question: str, vector: np.ndarray, answer: str) -> None:
    """Store a checked answer for other students asking the same thing (never the question's text)."""
    open_cache(get_settings()).remember(scope, question, vector, answer)


def explain(state: Mapping[str, Any], runtime: Runtime[StudentContext], config: RunnableConfig) -> dict[str, Any]:
    """Answer a free-form question (intent "ask"): cache, budget, grounded LLM with guards, or the lesson."""
    settings, store = get_settings(), get_store()
    student_id, profile = state["student_id"], state.get("profile") or {}
    language = state.get("language") or profile.get("language", "en")
    curriculum = student.curriculum_for(language, profile)  # its lessons in the student's cultural context
    topic = curriculum.topic(state["topic"])
    current = state.get("current_item")
    item = curriculum.item(current["id"]) if current else None
    question = next((str(m.content) for m in reversed(state["messages"]) if isinstance(m, HumanMessage)), "")
    visual = is_visual_learner(profile)
    scope = scope_of(topic.slug, language, curriculum.culture)  # answers follow the student's context
    vector: list[np.ndarray] = []

    def query_vector() -> np.ndarray:
        if not vector:
            vector.append(llm.embed(question, "query", settings))
        return vector[0]

    outcome = Outcome(student_id=student_id, language=language, item=item)
    # A question about the open problem is not a general question: answers to it are not shared.
    hit = open_cache(settings).lookup(scope, question, query_vector) if item is None else None
    source: Iterator[str]
    if hit is not None:
        outcome.tier, outcome.reason = "cache", hit.how
        source = iter([personalise(hit.answer, topic, profile)])
    elif not settings.llm_enabled:
        source = iter([_fallback(outcome, "disabled", topic, visual)])
    else:
        try:
            get_ledger(settings).check(student_id)  # enforced before the call, never after
            run = runtime.context or StudentContext()
            source = _generate(question, topic, profile, outcome, scope, query_vector, run)
        except OverBudget as exc:
            log.info("tier 1 for %s: %s", student_id, exc)
            source = iter([_fallback(outcome, "budget", topic, visual)])
    back = "\n\n" + say("back_to_problem", language, prompt=item.prompt) if item is not None else ""
    message = _stream(itertools.chain(source, [back] if back else []), config)
    if outcome.final_text:
        message.content = outcome.final_text + back
    message.response_metadata.update({"tier": outcome.tier, "reason": outcome.reason,
                                      "injection": guards.looks_like_injection(question),
                                      "wrong_steps": outcome.wrong_steps, "rejected": outcome.rejected,
                                      "replaced": outcome.replaced})
    store.record_turn(student.thread_id_of(runtime), student_id, question, str(message.content))
    shown = shown_by(str(message.content), outcome.tier, visual and bool(rendering.visual(topic)))
    since = list(state.get("since_answer") or [])
    return {"messages": [message], "shown": shown, "since_answer": [*since, *(k for k in shown if k not in since)]}

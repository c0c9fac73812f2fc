"""Student agent (tier 1, no LLM): intent, learner model, practice, grading feedback, struggle.

Decisions are pure functions (unit-tested without a graph); the node functions at the bottom load
the learner model from SQL, apply a decision, and return partial state updates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.runtime import Runtime

from tutormesh.agents.assessment import grade_attempt
from tutormesh.core import clock
from tutormesh.core.settings import get_settings
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.graphs.student.context import StudentContext
from tutormesh.tools import bkt
from tutormesh.tools.curriculum import Item, Topic, load_curriculum
from tutormesh.tools.store import get_store

Intent = Literal["answer", "practice", "hint", "learn", "ask", "review", "greet"]
NEGOTIATION_HISTORY = 5  # negotiations kept in state; SQL has them all
PRACTICE_INTENTS = ("answer", "practice", "hint")

_RULES: list[tuple[Intent, re.Pattern[str]]] = [
    ("hint", re.compile(r"^\s*(hint|help|i'?m stuck|stuck|give me a hint)\b", re.I)),
    ("review", re.compile(r"\b(review|progress|how am i doing|my mastery|summary|recap)\b", re.I)),
    ("practice", re.compile(r"\b(practi[cs]e|exercise|problem|drill|quiz me|another|next|test me)\b", re.I)),
    ("learn", re.compile(r"\b(learn|teach|lesson|explain|show me how|introduce)\b", re.I)),
    ("greet", re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|namaste|hola)\b[\s!.]*$", re.I)),
]
_LOOKS_LIKE_MATH = re.compile(r"^[\s\w.,=<>≤≥±√π^*/+\-−()\[\]{}%|\\]*$")


def parse_intent(text: str, *, awaiting_answer: bool) -> Intent:
    """Classify a message by rules: learn, practice, ask, review (plus answer, hint, greet)."""
    for intent, pattern in _RULES:
        if pattern.search(text):
            return intent
    if awaiting_answer and (_LOOKS_LIKE_MATH.match(text) or len(text) <= 40):
        return "answer"
    return "ask" if text.strip() else "greet"


def stable_bucket(key: str, buckets: int) -> int:
    """Map a key to a bucket that stays the same across processes (A/B arms, item seeds)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % buckets


def target_difficulty(p_known: float, streak: int, plan: Mapping[str, Any]) -> int:
    """Pick a difficulty 1..5 from mastery, eased by a slow pace and ramped easier-to-harder."""
    level = 1 + int(p_known * 5)
    if plan.get("pace") == "slow":
        level -= 1
    if plan.get("difficulty_ramp"):
        level = min(level, 1 + streak)
    return min(max(level, 1), 5)


def focus_topic(subject: str, mastery: Mapping[str, Mapping[str, Any]], wanted: list[Topic]) -> Topic:
    """Choose the topic to work on: the first unmastered match, else the next unmastered topic.

    A student who already mastered every topic matching their request moves on to the next topic
    of the unit after those, rather than re-drilling what they know.
    """
    topics = load_curriculum().subjects[subject].topics

    def open_(topic: Topic) -> bool:
        return not bkt.is_mastered(mastery.get(topic.skill, {}).get("p_known", 0.0))

    for topic in wanted:
        if open_(topic):
            return topic
    start = max((topics.index(t) for t in wanted if t in topics), default=-1) + 1
    for topic in [*topics[start:], *topics[:start]]:
        if open_(topic):
            return topic
    return wanted[-1] if wanted else topics[-1]


def next_item(student_id: str, topic: Topic, state: Mapping[str, Any], plan: Mapping[str, Any]) -> Item:
    """Instantiate the next practice item: difficulty from the learner model, stable A/B arm."""
    row = state.get(topic.skill, {})
    level = target_difficulty(row.get("p_known", topic.bkt.p_init), row.get("streak", 0), plan)
    variant = "AB"[stable_bucket(student_id, 2)]
    seed = stable_bucket(f"{student_id}:{topic.skill}", 100_000) + row.get("attempts", 0)
    return topic.template(level).instantiate(seed, variant)


def item_state(item: Item) -> dict[str, Any]:
    """What graph state keeps of the item awaiting an answer (the answer itself stays server-side)."""
    return {"id": item.id, "prompt": item.prompt, "skill": item.skill, "difficulty": item.difficulty,
            "hints_shown": 0}


def present(item: Item) -> str:
    """Render a practice item for the student."""
    return f"Level {item.difficulty} problem: {item.prompt}"


def _bar(p: float) -> str:
    filled = round(p * 10)
    return "█" * filled + "░" * (10 - filled)


def mastery_report(subject: str, mastery: Mapping[str, Mapping[str, Any]], plan: Mapping[str, Any]) -> str:
    """Summarise mastery per topic with bars, and the current plan."""
    lines = [f"Your {subject} progress (pace: {plan.get('pace', 'moderate')}):"]
    for topic in load_curriculum().subjects[subject].topics:
        row = mastery.get(topic.skill)
        if row:
            mark = " ✓ mastered" if bkt.is_mastered(row["p_known"]) else ""
            lines.append(f"  {_bar(row['p_known'])} {row['p_known']:.0%} {topic.title}{mark}")
    if len(lines) == 1:
        lines.append("  No practice yet: say 'practice' to start.")
    if plan.get("adjustments"):
        lines.append("Agreed support: " + "; ".join(plan["adjustments"]))
    return "\n".join(lines)


def _text(message: AnyMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") for part in content if isinstance(part, dict))


def _mastery_view(mastery: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    return {skill: round(row["p_known"], 4) for skill, row in mastery.items()}


def _context(runtime: Runtime[StudentContext]) -> StudentContext:
    return runtime.context or StudentContext()  # a run without context gets the defaults


def thread_id_of(runtime: Runtime[StudentContext]) -> str:
    """The conversation's id: the context's, else the checkpointer's thread (Studio sets only that)."""
    info = runtime.execution_info
    return _context(runtime).thread_id or (info.thread_id if info and info.thread_id else "")


# --- graph nodes ------------------------------------------------------------------------------
def understand(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Load the learner model (one read), review due agreements, and parse the latest message."""
    student_id = _context(runtime).student_id or state.get("student_id")
    if not student_id:
        raise ValueError('student_id is required: pass context={"student_id": ...}')
    store = get_store()
    now = clock.now(_context(runtime).now)
    last = next((m for m in reversed(state.get("messages", [])) if isinstance(m, HumanMessage)), None)
    text = _text(last) if last else ""
    curriculum = load_curriculum()
    intent = parse_intent(text, awaiting_answer=state.get("current_item") is not None)
    wanted = curriculum.route(text) if text and intent != "answer" else []
    if wanted and intent == "greet":
        intent = "practice"
    subject = wanted[0].subject if wanted else state.get("subject") or "math"
    learner = store.load_learner(student_id, subject, today=now.date(), now=now)
    mastery = learner["mastery"]
    topic_slug = state.get("topic")
    if wanted or not topic_slug or curriculum.topic(topic_slug).subject != subject:
        topic_slug = focus_topic(subject, mastery, wanted).slug
    update: dict[str, Any] = {
        "student_id": student_id, "turns": 1, "intent": intent, "subject": subject, "topic": topic_slug,
        "profile": learner["profile"], "plan": learner["plan"], "mastery": _mastery_view(mastery),
        "skill_stats": mastery, "pending_negotiation": None,
    }
    for review in learner["due_reviews"]:
        update["pending_negotiation"] = review_outcome(store, student_id, review, mastery)
    if learner["due_reviews"]:
        update["negotiations"] = store.negotiations(student_id, limit=NEGOTIATION_HISTORY)
    return update


def review_outcome(
    store: LearnerStore, student_id: str, review: Mapping[str, Any], mastery: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any] | None:
    """Close a due agreement as kept when mastery improved, else ask to renegotiate it."""
    now_p = mastery.get(review["skill"], {}).get("p_known", 0.0)
    before = review.get("baseline_mastery") or 0.0
    if bkt.is_mastered(now_p) or now_p - before >= 0.1:
        store.close_negotiation(review["id"], "kept", outcome=f"mastery {before:.2f} -> {now_p:.2f}")
        return None
    store.close_negotiation(review["id"], "renegotiated", outcome=f"no improvement: {before:.2f} -> {now_p:.2f}")
    return {"subject": review["subject"], "skill": review["skill"], "parent_id": review["id"],
            "reason": f"No improvement in {review['skill']} by the review date (mastery {before:.2f} -> {now_p:.2f})"}


def practice(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Grade a pending answer (or give a hint), update mastery, detect struggle, serve the next item."""
    store, settings = get_store(), get_settings()
    student_id, subject = state["student_id"], state["subject"]
    curriculum = load_curriculum()
    current = state.get("current_item")
    text = _text(state["messages"][-1])
    plan = dict(state["plan"])
    stats = dict(state.get("skill_stats") or {})
    topic = curriculum.topic(state["topic"])
    if state["intent"] == "hint" and current:
        item = curriculum.item(current["id"])
        shown = current.get("hints_shown", 0)
        ai = f"Hint {shown + 1}: {item.hints[min(shown, len(item.hints) - 1)]}\n{present(item)}"
        store.record_turn(thread_id_of(runtime), student_id, text, ai)
        return {"messages": [AIMessage(ai)], "current_item": {**current, "hints_shown": shown + 1}}
    lines: list[str] = []
    update: dict[str, Any] = {"current_item": None}
    attempt: dict[str, Any] | None = None
    if state["intent"] == "answer" and current:
        item = curriculum.item(current["id"])
        topic = curriculum.topic(item.topic)
        result = grade_attempt(item, text)
        row = stats.get(item.skill) or {"p_known": topic.bkt.p_init, "attempts": 0, "streak": 0, "fail_streak": 0}
        p_before = row["p_known"]
        p_after = bkt.update(p_before, result["correct"], bkt.BKTParams(**topic.bkt.model_dump()))
        stats[item.skill] = row = {
            **row, "p_known": p_after, "attempts": row["attempts"] + 1,
            "streak": row["streak"] + 1 if result["correct"] else 0,
            "fail_streak": 0 if result["correct"] else row["fail_streak"] + 1,
        }
        attempt = {"item": current, "grade": result, "p_before": p_before, "p_after": p_after}
        update["last_grade"] = {**result, "item_id": item.id, "p_known": round(p_after, 4)}
        if result["correct"]:
            extra = result["feedback"] if result["feedback"].strip(" .!").lower() != "correct" else ""
            lines.append(f"Correct! {extra}".strip())
        else:
            lines.append(f"Not quite. {result['feedback']} The answer was {item.answer}.")
            lines.append(f"Worked solution: {' '.join(item.hints)}")
        lines.append(f"Mastery of {topic.title}: {p_after:.0%}")
        if bkt.is_mastered(p_after) and not bkt.is_mastered(p_before):
            topic = focus_topic(subject, stats, [])
            lines.append(f"You have mastered this topic! Next up: {topic.title}.")
            plan = _spend_slow_topic(store, student_id, plan)
        if row["fail_streak"] >= settings.struggle_threshold:
            update["pending_negotiation"] = {
                "subject": subject, "skill": item.skill, "parent_id": None,
                "reason": f"Student failed {row['fail_streak']}/{row['fail_streak']} practice problems on "
                f"{topic.title}",
            }
    elif state["intent"] == "answer":
        lines.append("There is no open problem to answer yet.")
    if not update.get("pending_negotiation"):  # otherwise the next item follows the renegotiated plan
        item = next_item(student_id, topic, stats, plan)
        lines.append(present(item))
        update["current_item"] = item_state(item)
    ai = "\n".join(lines)
    if attempt:
        store.record_practice(student_id=student_id, thread_id=thread_id_of(runtime), answer=text, reply=ai, **attempt)
    else:
        store.record_turn(thread_id_of(runtime), student_id, text, ai)
    return {**update, "messages": [AIMessage(ai)], "topic": topic.slug, "plan": plan, "skill_stats": stats,
            "mastery": _mastery_view(stats)}


def _spend_slow_topic(store: LearnerStore, student_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    """A partial slowdown covers N topics; when they are done the pace returns to moderate."""
    left = plan.get("slow_topics_left")
    if not left:
        return plan
    fields: dict[str, Any] = {"slow_topics_left": left - 1}
    if left - 1 == 0:
        fields.update(pace="moderate", slow_topics_left=None)
        store.update_profile(student_id, pace="moderate")
    return store.set_plan(student_id, plan["subject"], **fields)


def teach(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Give the lesson of the focus topic, with the visual example for visual learners."""
    store = get_store()
    topic = load_curriculum().topic(state["topic"])
    lesson = topic.lesson
    profile = state.get("profile") or {}
    example = lesson.worked_example
    steps = "\n".join(f"  {n}. {step}" for n, step in enumerate(example.steps, 1))
    parts = [f"# {lesson.title}", lesson.explanation.strip(),
             f"Worked example: {example.problem}\n{steps}\nAnswer: {example.answer}"]
    plan = state["plan"]
    if profile.get("learning_style", {}).get("visual", 0.5) >= 0.5 or any("visual" in a for a in plan["adjustments"]):
        parts.append(lesson.visual_example.strip())
    parts.append("Say 'practice' when you are ready for a problem.")
    ai = "\n\n".join(p for p in parts if p)
    store.record_turn(thread_id_of(runtime), state["student_id"], _text(state["messages"][-1]), ai)
    return {"messages": [AIMessage(ai)]}


def review(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Show mastery per topic and the plan (also the answer to a greeting)."""
    store = get_store()
    student_id, subject = state["student_id"], state["subject"]
    report = mastery_report(subject, state.get("skill_stats") or {}, state["plan"])
    if state["intent"] == "greet":
        report = "Hi! I'm your learning agent. Ask me to teach a topic, practice, or review.\n" + report
    store.record_turn(thread_id_of(runtime), student_id, _text(state["messages"][-1]), report)
    return {"messages": [AIMessage(report)]}


def describe_negotiation(negotiation: Mapping[str, Any]) -> str:
    """Tell the student, in one short paragraph, what was agreed with the SME agent and why."""
    messages = negotiation.get("messages", [])
    last = messages[-1] if messages else {}
    if negotiation.get("status") == "committed":
        plan = last.get("plan", {})
        support = "; ".join(plan.get("adjustments", [])) or "no extra support"
        return (f"You seem stuck, so I asked your {negotiation['subject']} expert agent to adjust the plan. "
                f"Agreed: {plan.get('pace', 'same')} pace, with {support}. We'll review it in a week.")
    if negotiation.get("status") == "escalated":
        return ("I couldn't find a plan change that fits the semester, so I've asked a human tutor to help you "
                f"(escalation #{last.get('escalation_id')}). Keep practising meanwhile.")
    return "I'm still working out a better plan with your expert agent."


def after_negotiation(state: Mapping[str, Any], negotiation_id: str, context: StudentContext) -> dict[str, Any]:
    """Tell the student what the negotiation changed; serve the next item under the new plan."""
    store = get_store()
    student_id = state["student_id"]
    negotiations = store.negotiations(student_id, limit=NEGOTIATION_HISTORY)
    current = next(n for n in negotiations if n["id"] == negotiation_id)
    text = describe_negotiation(current)
    today = clock.now(context.now).date()
    plan = store.plan(student_id, state["subject"], today=today)
    stats = store.mastery(student_id)
    update: dict[str, Any] = {"pending_negotiation": None, "negotiations": negotiations, "plan": plan,
                              "profile": store.profile(student_id), "skill_stats": stats,
                              "mastery": _mastery_view(stats)}
    if state.get("intent") in PRACTICE_INTENTS:
        item = next_item(student_id, load_curriculum().topic(state["topic"]), stats, plan)
        text += "\n" + present(item)
        update["current_item"] = item_state(item)
    store.record_turn(context.thread_id, student_id, None, text)
    update["messages"] = [AIMessage(text)]
    return update

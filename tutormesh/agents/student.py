"""Student agent (tier 1, no LLM): understanding, learner model, practice, feedback, struggle.

Decisions are pure functions (unit-tested without a graph); the node functions load the learner
model from SQL, apply a decision, and return partial state updates. Every reply comes from the
message catalog (`agents/messages.py`) in the student's language. Only an attempt at the open
problem is graded and counted toward struggle (see `agents/understanding.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.runtime import Runtime

from tutormesh.agents import adaptation, reflection, rendering, understanding
from tutormesh.agents.assessment import grade_attempt
from tutormesh.agents.messages import say
from tutormesh.agents.planner import delivery_pace, focus_topic, mastered, next_item, ramp_step, session_opening
from tutormesh.agents.sme import SUPPORT_MESSAGE
from tutormesh.core import clock
from tutormesh.core.settings import get_settings
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.graphs.student.context import StudentContext
from tutormesh.tools import bkt, experiments, learner_model, retrieval
from tutormesh.tools.curriculum import Curriculum, Item, load_curriculum
from tutormesh.tools.curriculum.culture import resolve
from tutormesh.tools.store import get_store

NEGOTIATION_HISTORY = 5  # negotiations kept in state; SQL has them all
PRACTICE_INTENTS = ("answer", "practice", "hint", "meta")
# A question asked while a problem is open is about that problem unless it clearly names another
# topic: the best topic scores at least NAMES_ANOTHER and the open topic is not within STAY_ON_PROBLEM
# of it ("why do we flip the sign when we move a term?" during an equation stays on the equation).
NAMES_ANOTHER = 0.93
STAY_ON_PROBLEM = 0.04


def item_state(item: Item, served_at: str = "") -> dict[str, Any]:
    """What graph state keeps of the item awaiting an answer (the answer itself stays server-side)."""
    return {"id": item.id, "prompt": item.prompt, "skill": item.skill, "difficulty": item.difficulty,
            "hints_shown": 0, "tries": 0, "served_at": served_at}


def present(item: Item, language: str) -> str:
    """Render a practice item for the student."""
    return say("problem", language, level=item.difficulty, prompt=item.prompt)


def question_topic(text: str, named: tuple[str, ...], open_topic: str | None) -> str | None:
    """The topic a question is about: the open problem's, unless the question clearly names another."""
    if open_topic is None:
        return named[0] if named else None
    if not named or open_topic in named:
        return open_topic
    scores = retrieval.topic_scores(understanding.query_vector(text))
    best = scores[named[0]]
    if best < NAMES_ANOTHER or scores.get(open_topic, 0.0) >= best - STAY_ON_PROBLEM:
        return open_topic
    return named[0]


def reply_language(chosen: str, detected: str | None, remembered: str | None) -> str:
    """The reply language: the run's choice, else this message's, else the profile's, else English."""
    for language in (chosen, detected, remembered):
        if language in understanding.LANGUAGES:
            return str(language)
    return "en"


def curriculum_for(language: str, profile: Mapping[str, Any] | None) -> Curriculum:
    """The curriculum in the student's language and cultural context (their profile's, else the language's)."""
    return load_curriculum(language=language, culture_slug=resolve((profile or {}).get("cultural_context"), language))


def session_starts(state: Mapping[str, Any], now: datetime, idle_minutes: float) -> bool:
    """Whether this turn opens a session: a new thread, one after a goodbye, or one after an idle pause."""
    if state.get("session_over") or not state.get("turns"):
        return True
    last = state.get("last_turn_at")
    return bool(last) and now - clock.now(last) >= timedelta(minutes=idle_minutes)


def open_session(store: LearnerStore, student_id: str, thread_id: str) -> dict[str, Any] | None:
    """Start a session from the latest reflection: what it leads with and reviews, recorded as an adaptation.

    A previous session that ended without a goodbye (and before an idle sweep saw it) is reflected
    on first. A reflection is acted on by one session only (`ReflectionStore.claim`).
    """
    reflection.close_session(student_id, None, "idle", store=store)
    box = reflection.reflections(store)
    latest = box.latest(student_id)
    if latest is None or latest["applied_at"]:
        return None
    opening = session_opening(latest)
    if opening is None or not box.claim(student_id, latest["id"], thread_id):
        return None
    store.adapt(student_id, {}, [{"kind": "reflection", "before": None, "reason": opening["reason"],
                                  "after": {"first_content": opening["first_content"],
                                            "review_skills": opening["review_skills"]}}])
    return opening


def announce(state: Mapping[str, Any], language: str) -> list[str]:
    """The line that tells the student what this session does after the last one's reflection (once)."""
    opening = state.get("opening")
    if not opening or opening.get("announced"):
        return []
    items = reflection.next_text(opening, language, curriculum_for(language, state.get("profile")))
    return [say("opening", language, items=items)]


def opening_after(state: Mapping[str, Any], shown: list[str]) -> dict[str, Any]:
    """The opening once a turn announced it; its lead content type is spent once content was shown."""
    opening = state.get("opening")
    if not opening:
        return {}
    return {"opening": {**opening, "announced": True, "first_content": None if shown else opening["first_content"]}}


def _bar(p: float) -> str:
    filled = round(p * 10)
    return "█" * filled + "░" * (10 - filled)


def mastery_report(subject: str, mastery: Mapping[str, Mapping[str, Any]], plan: Mapping[str, Any],
                   language: str) -> str:
    """Summarise mastery per topic with bars, and the current plan."""
    pace = say(f"pace_{plan.get('pace', 'moderate')}", language)
    lines = [say("progress_title", language, subject=subject, pace=pace)]
    for topic in load_curriculum(language=language).subjects[subject].topics:
        row = mastery.get(topic.skill)
        if row:
            mark = f" ✓ {say('progress_mastered', language)}" if mastered(topic, mastery) else ""
            lines.append(f"  {_bar(row['p_known'])} {row['p_known']:.0%} {topic.title}{mark}")
    if len(lines) == 1:
        lines.append("  " + say("progress_empty", language))
    if plan.get("adjustments"):
        lines.append(say("progress_support", language, support=supports_text(plan["adjustments"], language)))
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


def last_text(state: Mapping[str, Any]) -> str:
    """The latest human message of the turn."""
    last = next((m for m in reversed(state.get("messages", [])) if isinstance(m, HumanMessage)), None)
    return _text(last) if last else ""


# --- graph nodes ------------------------------------------------------------------------------
def understand(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Load the learner model (one read), review due agreements, and understand the latest message."""
    ctx = _context(runtime)
    student_id = ctx.student_id or state.get("student_id")
    if not student_id:
        raise ValueError('student_id is required: pass context={"student_id": ...}')
    store = get_store()
    now = clock.now(ctx.now)
    text = last_text(state)
    curriculum = load_curriculum()
    current, topic_slug = _still_taught(curriculum, state.get("current_item"), state.get("topic"))
    open_topic = curriculum.item(current["id"]).topic if current else None
    read = understanding.understand(text, problem_open=current is not None, current_topic=open_topic)
    wanted = [curriculum.topic(s) for s in read.topics] if read.intent in ("practice", "learn") else []
    subject = wanted[0].subject if wanted else state.get("subject") or "math"
    learner = store.load_learner(student_id, subject, today=now.date(), now=now)
    mastery, profile = learner["mastery"], learner["profile"]
    opening, review_first = state.get("opening"), None
    if read.intent != "goodbye" and session_starts(state, now, get_settings().agent_idle_minutes):
        opening = open_session(store, student_id, thread_id_of(runtime)) if ctx.adaptive else None
        review_first = opening["review_topic"] if opening else None
    if read.language_sure and read.language != profile.get("language"):
        store.update_profile(student_id, language=read.language)  # remembered for messages with no language
        profile = {**profile, "language": read.language}
    if review_first and not wanted and curriculum.topic(review_first).subject == subject:
        topic_slug = review_first  # the reflection's review comes first, unless the student asked for a topic
    if read.intent == "ask":
        topic_slug = question_topic(text, read.topics, open_topic) or topic_slug
    if wanted or not topic_slug or curriculum.topic(topic_slug).subject != subject:
        topic_slug = focus_topic(subject, mastery, wanted, current=topic_slug, **_preferences(ctx, profile, now)).slug
    update: dict[str, Any] = {
        "student_id": student_id, "turns": 1, "intent": read.intent, "subject": subject, "topic": topic_slug,
        "understanding": {"intent": read.intent, "is_attempt": read.is_attempt, "answer": read.answer,
                          "language": read.language, "language_sure": read.language_sure,
                          "topics": list(read.topics), "source": read.source,
                          "confidence": round(read.confidence, 3)},
        "language": reply_language(ctx.language, read.language if read.language_sure else None,
                                   profile.get("language")),
        "profile": profile, "plan": learner["plan"], "mastery": _mastery_view(mastery),
        "skill_stats": mastery, "pending_negotiation": None, "shown": [],
        "opening": opening, "session_over": False, "last_turn_at": now.isoformat(),
    }
    if current is None and state.get("current_item"):
        update["current_item"] = None  # its topic was unpublished (docs/content.md): the problem is withdrawn
    for review in learner["due_reviews"]:
        update["pending_negotiation"] = review_outcome(store, student_id, review, mastery)
    if learner["due_reviews"]:
        update["negotiations"] = store.negotiations(student_id, limit=NEGOTIATION_HISTORY)
    return update


def _still_taught(curriculum: Any, current: dict[str, Any] | None,
                  topic: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The open item and topic, or None for those whose topic the curriculum no longer has (unpublished)."""
    def known(slug: str) -> bool:
        try:
            curriculum.topic(slug)
        except ValueError:
            return False
        return True

    try:
        if current is not None:
            curriculum.item(current["id"])
    except ValueError:
        current = None
    return current, topic if topic and known(topic) else None


def _preferences(ctx: StudentContext, profile: Mapping[str, Any], now: Any) -> dict[str, Any]:
    """Goals, weaknesses and the clock for topic choice (none for the fixed sequence)."""
    if not ctx.adaptive:
        return {}
    return {"goals": profile.get("goals") or [], "weaknesses": profile.get("weaknesses") or [], "now": now}


def review_outcome(
    store: LearnerStore, student_id: str, review: Mapping[str, Any], mastery: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any] | None:
    """Close a due agreement as kept when mastery improved, else ask to renegotiate it."""
    row = mastery.get(review["skill"], {})
    now_p = row.get("p_known", 0.0)
    before = review.get("baseline_mastery") or 0.0
    if bkt.is_mastered(now_p, row.get("attempts", 0)) or now_p - before >= 0.1:
        store.close_negotiation(review["id"], "kept", outcome=f"mastery {before:.2f} -> {now_p:.2f}")
        return None
    store.close_negotiation(review["id"], "renegotiated", outcome=f"no improvement: {before:.2f} -> {now_p:.2f}")
    return {"subject": review["subject"], "skill": review["skill"], "parent_id": review["id"],
            "reason": f"No improvement in {review['skill']} by the review date (mastery {before:.2f} -> {now_p:.2f})"}


def _help(item: Item, current: dict[str, Any], language: str) -> tuple[str, dict[str, Any]]:
    """The next hint of the open item (the last one again when all were shown)."""
    shown = current.get("hints_shown", 0)
    if shown >= len(item.hints):
        return say("no_more_hints", language), current
    text = say("hint", language, n=shown + 1, hint=item.hints[shown])
    return text, {**current, "hints_shown": shown + 1}


def serve(state: Mapping[str, Any], ctx: StudentContext, topic_slug: str, stats: Mapping[str, Mapping[str, Any]],
          plan: Mapping[str, Any], profile: Mapping[str, Any], shown: list[str],
          agreed: dict[str, int]) -> tuple[list[str], dict[str, Any]]:
    """The next practice item with the content that comes with it; `shown` gains the content types.

    `agreed` counts per topic the pictures an agreement added (state `agreed_visuals`); it gains this one.

    Returns the reply lines and the item's state. An agreed easier-to-harder ramp says where it is.
    """
    student_id, language = state["student_id"], state.get("language", "en")
    curriculum = curriculum_for(language, profile)
    topic = curriculum.topic(topic_slug)
    pace = delivery_pace(plan, profile) if ctx.adaptive else "moderate"
    item = next_item(student_id, topic, stats, plan, pace=pace, adaptive=ctx.adaptive,
                     retired=experiments.retired_variants(get_store().sessions), culture_slug=curriculum.culture)
    row = stats.get(topic.skill, {})
    kinds = adaptation.item_content(student_id, profile, plan, row, adaptive=ctx.adaptive,
                                    draw=adaptation.draw_index(stats), agreed_shown=agreed.get(topic.slug, 0),
                                    lead=(state.get("opening") or {}).get("first_content"))
    if adaptation.agreed_visual(plan, kinds):
        agreed[topic.slug] = agreed.get(topic.slug, 0) + 1
    lines = [rendering.support(topic, kinds, language)] if kinds else []
    shown.extend(k for k in kinds if k not in shown)
    if ctx.adaptive and plan.get("difficulty_ramp"):
        lines.append(say("ramp_note", language, level=item.difficulty, step=ramp_step(pace)))
    served = curriculum.item(item.id)
    lines.append(present(served, language))
    steps = adaptation.short_steps(served, language, pace=pace, adaptive=ctx.adaptive)
    lines += [steps] if steps else []
    return lines, item_state(item, clock.now(ctx.now).isoformat())


def _signals(current: Mapping[str, Any], state: Mapping[str, Any], now: Any, streak: int) -> dict[str, Any]:
    """A graded answer's engagement signals: what was shown before it, time on task, hints, retry, streak."""
    served = current.get("served_at")
    seconds, idle = learner_model.time_on_task(clock.now(served) if served else None, now)
    return {"shown_before": list(state.get("since_answer") or []), "seconds": round(seconds, 1),
            "idle_s": round(idle, 1), "hints_used": int(current.get("hints_shown", 0)),
            "retry": current.get("tries", 0) > 0, "streak": streak}


def earlier_answers(state: Mapping[str, Any], answers: int) -> list[dict[str, Any]] | None:
    """The previous answers' signals the state carries, if they end with the student's latest answer.

    `answers` is how many answers the student has given by the mastery rows this turn loaded; the
    carried rows are current only when they were taken after that many. None: read the store (a thread
    without them, or an answer given since in another thread or by a non-adaptive run).
    """
    carried = state.get("answer_window") or {}
    if carried.get("answers") != answers or "rows" not in carried:
        return None
    return [dict(row) for row in carried["rows"]]


def answer_row(current: Mapping[str, Any], grade: Mapping[str, Any], signals: Mapping[str, Any]) -> dict[str, Any]:
    """One answer's signals as `LearnerStore.recent_engagement` returns the row the practice write stores."""
    return {"skill": current["skill"], "shown_before": list(signals["shown_before"]), "correct": bool(grade["correct"]),
            "reason": grade["reason"], "seconds": signals["seconds"], "idle_s": signals["idle_s"],
            "hints_used": signals["hints_used"], "retry": signals["retry"], "streak": signals["streak"]}


def practice(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Grade an attempt at the open problem (or help with it), learn from it, serve the next item."""
    store, settings, ctx = get_store(), get_settings(), _context(runtime)
    student_id, subject, language = state["student_id"], state["subject"], state.get("language", "en")
    intent, read = state["intent"], state.get("understanding") or {}
    curriculum = curriculum_for(language, state.get("profile"))
    current = state.get("current_item")
    text = last_text(state)
    thread_id = thread_id_of(runtime)
    if intent in ("hint", "meta") and current:
        item = curriculum.item(current["id"])
        help_text, current = _help(item, current, language)
        ai = "\n".join([*announce(state, language),
                        say("meta_open", language, help=help_text, prompt=item.prompt) if intent == "meta"
                        else f"{help_text}\n{present(item, language)}"])
        store.record_turn(thread_id, student_id, text, ai)
        return {"messages": [AIMessage(ai)], "current_item": current, **opening_after(state, [])}
    plan, profile = dict(state["plan"]), dict(state.get("profile") or {})
    stats = dict(state.get("skill_stats") or {})
    topic = curriculum.topic(state["topic"])
    lines: list[str] = announce(state, language)
    shown: list[str] = []
    since_answer = list(state.get("since_answer") or [])
    update: dict[str, Any] = {"current_item": None}
    attempt: dict[str, Any] | None = None
    if intent == "answer" and current and read.get("is_attempt"):
        now = clock.now(ctx.now)
        item = curriculum.item(current["id"])
        topic = curriculum.topic(item.topic)
        result = grade_attempt(item, read.get("answer") or text, language)
        retry = current.get("tries", 0) > 0
        row = stats.get(item.skill) or {"p_known": topic.bkt.p_init, "attempts": 0, "streak": 0, "fail_streak": 0}
        p_before = row["p_known"]
        # A right answer after a hint is not evidence of knowing; a wrong one still is.
        credit = not (retry and result["correct"])
        params = bkt.BKTParams(**topic.bkt.model_dump())
        p_after = bkt.update(p_before, result["correct"], params) if credit else p_before
        was_mastered = mastered(topic, stats)
        answers = adaptation.draw_index(stats)  # before this one
        signals = _signals(current, state, now, row["streak"] + 1 if result["correct"] else 0)
        stats[item.skill] = row = {
            **row, "p_known": p_after, "attempts": row["attempts"] + 1,
            "streak": signals["streak"], "fail_streak": 0 if result["correct"] else row.get("fail_streak", 0) + 1,
            "time_on_task_s": round(row.get("time_on_task_s", 0.0) + signals["seconds"], 1),
            "hints_used": row.get("hints_used", 0) + signals["hints_used"],
            "misconception_hits": row.get("misconception_hits", 0) + int(result["reason"] == "misconception"),
            "last_practised": now.isoformat(),
        }
        attempt = {"item": current, "grade": result, "p_before": p_before, "p_after": p_after, "signals": signals}
        since_answer = []
        update["last_grade"] = {**result, "item_id": item.id, "p_known": round(p_after, 4), "retry": retry}
        feedback = result["feedback"].strip()
        if result["correct"]:
            plain = feedback.strip(" .!¡।").lower() in ("", "correct", say("correct", language).strip(" .!¡।").lower())
            lines.append(say("correct", language) if plain else say("correct_with_feedback", language,
                                                                      feedback=feedback))
        elif not retry and item.hints and row["fail_streak"] < settings.struggle_threshold:
            update["current_item"] = {**current, "tries": 1, "hints_shown": max(current.get("hints_shown", 0), 1),
                                      "served_at": now.isoformat()}
            lines.append(say("wrong_retry", language, feedback=feedback, hint=item.hints[0], prompt=item.prompt))
        else:
            lines.append(say("wrong_solution", language, feedback=feedback, answer=item.answer))
            lines.append(rendering.worked_solution(item, language))
        lines.append(say("mastery_line", language, topic=topic.title, percent=f"{p_after:.0%}"))
        if ctx.adaptive:
            earlier = earlier_answers(state, answers)
            if earlier is None:
                earlier = store.recent_engagement(student_id, limit=adaptation.EARLIER_ANSWERS)
            learned = adaptation.learned_from_answer(profile, stats, signals, result["correct"], language,
                                                     earlier=earlier, skill=item.skill, known=p_before,
                                                     params=params)
            profile = learned.profile
            lines += learned.lines
            attempt.update(learned=learned.fields, adaptations=learned.adaptations)  # written with the attempt
            rows = [*earlier, answer_row(current, result, signals)][-adaptation.EARLIER_ANSWERS:]
            update["answer_window"] = {"answers": answers + 1, "rows": rows}
        if mastered(topic, stats) and (not was_mastered or result["correct"]):  # a review ends on a right answer
            done = topic
            topic = focus_topic(subject, stats, [], current=topic.slug, **_preferences(ctx, profile, now))
            if not was_mastered:
                lines.append(say("mastered", language, topic=curriculum.topic(item.topic).title,
                                 next=curriculum.topic(topic.slug).title))
                if adaptation.recap_on_mastery(plan, profile, adaptive=ctx.adaptive):
                    lines.append(rendering.recap(done, language))
                    shown.append("recap")
                if plan.get("slow_topics_left") and attempt.get("learned") is not None:
                    # The end of a slowdown writes the pace: after what the answer learned, as before.
                    store.adapt(student_id, attempt.pop("learned"), attempt.pop("adaptations"))
                plan = _spend_slow_topic(store, student_id, plan)
        # The fixed sequence has no plan to renegotiate (it would ignore an agreed pace and support).
        if ctx.adaptive and row["fail_streak"] >= settings.struggle_threshold and not under_agreement(
                store.negotiations(student_id, limit=NEGOTIATION_HISTORY), item.skill):
            update["current_item"] = None
            update["pending_negotiation"] = {
                "subject": subject, "skill": item.skill, "parent_id": None,
                "reason": f"Student failed {row['fail_streak']}/{row['fail_streak']} practice problems on "
                f"{topic.title}",
            }
    elif intent in ("answer", "hint", "meta"):
        lines.append(say("no_open_problem", language))
    open_now = update.get("current_item")
    if not update.get("pending_negotiation") and not open_now:  # else the renegotiated plan picks the item
        agreed = dict(state.get("agreed_visuals") or {})
        served, update["current_item"] = serve(state, ctx, topic.slug, stats, plan, profile, shown, agreed)
        update["agreed_visuals"] = agreed
        lines += served
    ai = "\n".join(lines)
    if attempt:
        store.record_practice(student_id=student_id, thread_id=thread_id, answer=text, reply=ai, **attempt)
    else:
        store.record_turn(thread_id, student_id, text, ai)
    return {**update, **opening_after(state, shown), "messages": [AIMessage(ai)], "topic": topic.slug, "plan": plan,
            "skill_stats": stats,
            "mastery": _mastery_view(stats), "profile": profile, "shown": shown,
            "since_answer": [*since_answer, *(k for k in shown if k not in since_answer)]}


def under_agreement(negotiations: list[dict[str, Any]], skill: str) -> bool:
    """Whether a skill already has an agreement under review, or an escalation with a human tutor.

    More failures on it then wait for that: the review renegotiates an agreement that did not help,
    so negotiating again on every further wrong answer would loop (docs/conversation.md).
    """
    return any(n.get("skill") == skill and n.get("status") in ("committed", "escalated") for n in negotiations)


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
    """Give the lesson of the focus topic (again, in full, after "I don't get it"), in the student's variants."""
    store, language, ctx = get_store(), state.get("language", "en"), _context(runtime)
    topic = curriculum_for(language, state.get("profile")).topic(state["topic"])
    extras = adaptation.lesson_extras(state["student_id"], state.get("profile") or {}, state["plan"],
                                      adaptive=ctx.adaptive, draw=adaptation.draw_index(state.get("skill_stats") or {}),
                                      lead=(state.get("opening") or {}).get("first_content"))
    if extras is None:  # the fixed sequence: the explanation alone
        body, shown = f"# {topic.lesson.title}\n\n{rendering.explanation(topic)}", ["text"]
    else:
        body, shown = rendering.lesson(topic, language, extras), rendering.lesson_types(extras)
    parts = announce(state, language)
    parts += [say("meta_lesson", language)] if state["intent"] == "meta" else []
    parts += [body, say("lesson_ready", language)]
    ai = "\n\n".join(parts)
    store.record_turn(thread_id_of(runtime), state["student_id"], last_text(state), ai)
    since = list(state.get("since_answer") or [])
    return {"messages": [AIMessage(ai)], "shown": shown, **opening_after(state, shown),
            "since_answer": [*since, *(k for k in shown if k not in since)]}


def review(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Show mastery per topic and the plan."""
    store, language = get_store(), state.get("language", "en")
    report = mastery_report(state["subject"], state.get("skill_stats") or {}, state["plan"], language)
    store.record_turn(thread_id_of(runtime), state["student_id"], last_text(state), report)
    return {"messages": [AIMessage(report)]}


def converse(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Answer a greeting, small talk or an off-topic message with a short, friendly way back."""
    store, language = get_store(), state.get("language", "en")
    current = state.get("current_item")
    topic = curriculum_for(language, state.get("profile")).topic(state["topic"])
    if state["intent"] == "off_topic":
        ai = say("off_topic", language, topic=topic.title)
        if current:
            ai += "\n" + say("back_to_problem", language, prompt=current["prompt"])
    elif current:
        ai = say("greet_open", language, prompt=current["prompt"])
    elif state.get("turns", 1) <= 1:
        ai = say("greet", language)
    else:
        ai = say("small_talk", language, next=say("lesson_ready", language))
    ai = "\n".join([*announce(state, language), ai])
    store.record_turn(thread_id_of(runtime), state["student_id"], last_text(state), ai)
    return {"messages": [AIMessage(ai)], **opening_after(state, [])}


def supports_text(adjustments: Sequence[str], language: str) -> str:
    """The agreed supports in the student's language (the protocol carries them in English)."""
    return "; ".join(say(SUPPORT_MESSAGE[a], language) if a in SUPPORT_MESSAGE else a for a in adjustments)


def describe_negotiation(negotiation: Mapping[str, Any], language: str = "en") -> str:
    """Tell the student, in one short paragraph, what was agreed with the SME agent and why."""
    messages = negotiation.get("messages", [])
    last = messages[-1] if messages else {}
    if negotiation.get("status") == "committed":
        plan = last.get("plan", {})
        support = supports_text(plan.get("adjustments", []), language) or say("no_extra_support", language)
        pace = say(f"pace_{plan.get('pace', 'moderate')}", language)
        slug = negotiation["subject"]
        subject = load_curriculum(language).subjects[slug].title if slug in load_curriculum().subjects else slug
        return say("negotiation_committed", language, subject=subject, pace=pace, support=support)
    if negotiation.get("status") == "escalated":
        return say("negotiation_escalated", language, escalation_id=last.get("escalation_id"))
    return say("negotiation_open", language)


def after_negotiation(state: Mapping[str, Any], negotiation_id: str, *, ctx: StudentContext,
                      thread_id: str) -> dict[str, Any]:
    """Tell the student what the negotiation changed; serve the next item under the new plan."""
    store, language = get_store(), state.get("language", "en")
    student_id = state["student_id"]
    negotiations = store.negotiations(student_id, limit=NEGOTIATION_HISTORY)
    current = next(n for n in negotiations if n["id"] == negotiation_id)
    text = describe_negotiation(current, language)
    today = clock.now(ctx.now).date()
    plan = store.plan(student_id, state["subject"], today=today)
    stats = store.mastery(student_id)
    update: dict[str, Any] = {"pending_negotiation": None, "negotiations": negotiations, "plan": plan,
                              "profile": store.profile(student_id), "skill_stats": stats,
                              "mastery": _mastery_view(stats)}
    if state.get("intent") in PRACTICE_INTENTS:  # the agreed support arrives with the very next item
        shown = list(state.get("shown") or [])
        agreed = dict(state.get("agreed_visuals") or {})
        lines, update["current_item"] = serve({**state, **update}, ctx, state["topic"], stats, plan,
                                              update["profile"], shown, agreed)
        update["agreed_visuals"] = agreed
        text += "\n" + "\n".join(lines)
        since = list(state.get("since_answer") or [])
        update.update(shown=shown, since_answer=[*since, *(k for k in shown if k not in since)])
    store.record_turn(thread_id, student_id, None, text)
    update["messages"] = [AIMessage(text)]
    return update

"""End-of-session reflection (tier 1, no LLM): what worked, what did not, what changes next time.

A session ends with a goodbye ("bye", "adiós, hasta mañana", "बस आज के लिए इतना ही") or an idle
pause (server/lifecycle.py). Its reflection is computed DETERMINISTICALLY from the session's
engagement rows: the content shown before each graded answer, hints, retries, time, the skills
whose mastery rose or fell, and the negotiations it opened. `reflect` is a pure function, so every
rule below is unit-tested; the next session's planner acts on its `next_steps`
(`planner.session_opening`). docs/learner-model.md ("Reflections") states the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from tutormesh.agents.messages import say
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.core.stores.reflections import ReflectionStore
from tutormesh.graphs.student.context import StudentContext
from tutormesh.tools.curriculum import Curriculum, load_curriculum
from tutormesh.tools.curriculum.culture import resolve
from tutormesh.tools.learner_model import CONTENT_TYPES
from tutormesh.tools.store import get_store

MIN_EVIDENCE = 2  # answers after a content type before it can be said to work or not
WORKED_ACCURACY = 0.6  # right answers after a type at or above this share: it worked
STRUGGLED_ACCURACY = 0.4  # at or below this share: it did not
ROSE, FELL = 0.1, 0.05  # a skill's mastery moving this much over the session is worth saying
HINTS_SHARE = 0.5  # hints on at least this share of the answers: the problems were too hard
SLOW_SECONDS = 120.0  # a median answer time above this (the pace rule's "slow" line)
MISCONCEPTION_HITS = 2  # the same skill's known mistake this often in one session
REVIEW_BELOW = 0.5  # a practised skill left under this mastery is reviewed next time
MAX_REVIEWS = 3
STRUGGLING = 0.5  # session accuracy under this with no type that worked: lead with a worked example
# When nothing clearly worked but the session was hard, the first type to try next time, in order.
SUPPORT_ORDER = ("worked_example", "visual", "recap", "text")


@dataclass(frozen=True)
class Reflection:
    """A session's reflection: findings are {"code", ...facts} so they render in any language."""

    answers: int
    right: int
    worked: list[dict[str, Any]] = field(default_factory=list)
    struggled: list[dict[str, Any]] = field(default_factory=list)
    next_steps: dict[str, Any] = field(default_factory=dict)


def _by_content(answers: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """(right, n) of the answers given right after each content type."""
    out: dict[str, tuple[int, int]] = {}
    for kind in CONTENT_TYPES:
        after = [a for a in answers if kind in (a.get("shown_before") or [])]
        if after:
            out[kind] = (sum(bool(a["correct"]) for a in after), len(after))
    return out


def reflect(signals: Mapping[str, Any]) -> Reflection:
    """Reflect on one session's signals (`ReflectionStore.session_signals`); the same input, the same output."""
    answers = list(signals.get("answers") or [])
    right = sum(bool(a["correct"]) for a in answers)
    worked: list[dict[str, Any]] = []
    struggled: list[dict[str, Any]] = []
    contents = _by_content(answers)
    good = sorted((k for k, (r, n) in contents.items() if n >= MIN_EVIDENCE and r / n >= WORKED_ACCURACY),
                  key=lambda k: (-contents[k][0] / contents[k][1], -contents[k][1], CONTENT_TYPES.index(k)))
    bad = [k for k, (r, n) in contents.items() if n >= MIN_EVIDENCE and r / n <= STRUGGLED_ACCURACY]
    worked += [{"code": "content_worked", "kind": k, "right": contents[k][0], "n": contents[k][1]} for k in good]
    struggled += [{"code": "content_struggled", "kind": k, "right": contents[k][0], "n": contents[k][1]} for k in bad]
    first_try = sum(bool(a["correct"]) and not a.get("retry") and not a.get("hints_used") for a in answers)
    if first_try >= MIN_EVIDENCE:
        worked.append({"code": "first_try", "right": first_try})
    fixed = sum(bool(a["correct"]) and bool(a.get("retry")) for a in answers)
    if fixed:
        worked.append({"code": "retry_worked", "fixed": fixed})
    hinted = sum(int(a.get("hints_used") or 0) > 0 for a in answers)
    if len(answers) >= MIN_EVIDENCE and hinted / len(answers) >= HINTS_SHARE:
        struggled.append({"code": "needed_hints", "hinted": hinted, "n": len(answers)})
    seconds = median(float(a.get("seconds") or 0) for a in answers) if answers else 0.0
    if len(answers) >= MIN_EVIDENCE and seconds > SLOW_SECONDS:
        struggled.append({"code": "slow_answers", "seconds": round(seconds)})
    mastery: Mapping[str, Sequence[float]] = signals.get("mastery") or {}
    for skill, (before, after) in sorted(mastery.items()):
        if after - before >= ROSE:
            worked.append({"code": "mastery_rose", "skill": skill, "before": round(before, 2),
                           "after": round(after, 2)})
        elif before - after >= FELL:
            struggled.append({"code": "mastery_fell", "skill": skill, "before": round(before, 2),
                              "after": round(after, 2)})
    hits: dict[str, int] = {}
    for a in answers:
        if a.get("reason") == "misconception":
            hits[a["skill"]] = hits.get(a["skill"], 0) + 1
    struggled += [{"code": "misconception", "skill": s, "hits": n} for s, n in sorted(hits.items())
                  if n >= MISCONCEPTION_HITS]
    for negotiation in signals.get("negotiations") or []:
        code = {"escalated": "escalated"}.get(negotiation["status"], "plan_changed")
        struggled.append({"code": code, "skill": negotiation["skill"]})
    return Reflection(len(answers), right, worked, struggled,
                      _next_steps(answers, right, good, bad, mastery, hits))


def _next_steps(answers: Sequence[Mapping[str, Any]], right: int, good: Sequence[str], bad: Sequence[str],
                mastery: Mapping[str, Sequence[float]], hits: Mapping[str, int]) -> dict[str, Any]:
    """What the next session changes: the content type it leads with, and the skills it reviews first."""
    first: str | None = None
    because = ""
    if good:
        first, because = good[0], "content_worked"
    elif answers and right / len(answers) < STRUGGLING:
        first = next((k for k in SUPPORT_ORDER if k not in bad), None)
        because = "struggled"
    counts: dict[str, int] = {}
    for a in answers:
        counts[a["skill"]] = counts.get(a["skill"], 0) + 1
    review = [s for s, (before, after) in mastery.items()
              if before - after >= FELL or (after < REVIEW_BELOW and counts.get(s, 0) >= MIN_EVIDENCE)
              or hits.get(s, 0) >= MISCONCEPTION_HITS]
    review.sort(key=lambda s: (mastery[s][1], s))
    return {"first_content": first, "first_content_because": because, "review_skills": review[:MAX_REVIEWS]}


# --- words ------------------------------------------------------------------------------------
def _title(curriculum: Curriculum, skill: str) -> str:
    return next((t.title for t in curriculum.topics() if t.skill == skill), skill)


def finding_text(finding: Mapping[str, Any], language: str, curriculum: Curriculum) -> str:
    """One finding in the student's language (data/messages: the `reflect_<code>` keys)."""
    slots = dict(finding)
    if "kind" in slots:
        slots["kind"] = say(f"content_{slots['kind']}", language)
    if "skill" in slots:
        slots["topic"] = _title(curriculum, slots["skill"])
    for key in ("before", "after"):
        if key in slots:
            slots[key] = f"{float(slots[key]):.0%}"
    return say(f"reflect_{finding['code']}", language, **slots)


def next_text(next_steps: Mapping[str, Any], language: str, curriculum: Curriculum) -> str:
    """What changes next time, in the student's language."""
    parts = []
    if next_steps.get("first_content"):
        kind = say(f"content_{next_steps['first_content']}", language)
        parts.append(say("reflect_next_content", language, kind=kind))
    if next_steps.get("review_skills"):
        topics = ", ".join(_title(curriculum, s) for s in next_steps["review_skills"])
        parts.append(say("reflect_next_review", language, topics=topics))
    return "; ".join(parts) or say("reflect_next_same", language)


def render(reflection: Reflection, language: str, curriculum: Curriculum) -> str:
    """The reflection as the student reads it: what worked, what was hard, what changes next time."""
    lines = [say("reflect_title", language, n=reflection.answers, right=reflection.right)]
    for key, findings in (("reflect_worked", reflection.worked), ("reflect_struggled", reflection.struggled)):
        if findings:
            lines.append(say(key, language, items="; ".join(finding_text(f, language, curriculum) for f in findings)))
    lines.append(say("reflect_next", language, items=next_text(reflection.next_steps, language, curriculum)))
    return "\n".join(lines)


# --- storing ----------------------------------------------------------------------------------
_stores: dict[int, ReflectionStore] = {}


def reflections(store: LearnerStore | None = None) -> ReflectionStore:
    """The reflection store over the learner store's database (and shards), one per process."""
    store = store or get_store()
    found = _stores.get(id(store))
    if found is None:
        found = _stores[id(store)] = ReflectionStore(store.sessions, store.router)
    return found


def close_session(student_id: str, thread_id: str | None, trigger: str, *, language: str | None = None,
                  store: LearnerStore | None = None) -> dict[str, Any] | None:
    """Reflect on the student's session not reflected on yet and store it; None when it had no answers.

    `thread_id` is where the session ended (None: the thread of its last answer). Safe to call
    twice (a goodbye, then the idle sweep): the second finds no new answers, and two racing calls
    store one row (`ReflectionStore.add`).
    """
    store = store or get_store()
    box = reflections(store)
    signals = box.session_signals(student_id)
    if signals is None:
        return None
    profile = store.profile(student_id)
    language = language or profile.get("language") or "en"
    curriculum = load_curriculum(language=language, culture_slug=resolve(profile.get("cultural_context"), language))
    result = reflect(signals)
    return box.add(student_id, thread_id=thread_id or signals["thread_id"], trigger=trigger, language=language,
                   first_engagement_id=signals["first_engagement_id"], last_engagement_id=signals["last_engagement_id"],
                   last_attempt_id=signals["last_attempt_id"], answers=result.answers, right=result.right,
                   worked=result.worked, struggled=result.struggled,
                   next_steps=result.next_steps, summary=render(result, language, curriculum))


def goodbye(state: Mapping[str, Any], runtime: Runtime[StudentContext]) -> dict[str, Any]:
    """Say goodbye with the session's reflection (stored for the next session's planner)."""
    from tutormesh.agents.student import last_text, thread_id_of

    store, language = get_store(), state.get("language", "en")
    thread_id = thread_id_of(runtime)
    found = close_session(state["student_id"], thread_id, "goodbye", language=language, store=store)
    ai = say("goodbye", language, reflection=found["summary"]) if found else say("goodbye_empty", language)
    store.record_turn(thread_id, state["student_id"], last_text(state), ai)
    return {"messages": [AIMessage(ai)], "session_over": True}

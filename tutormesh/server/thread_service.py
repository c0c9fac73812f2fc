"""Thread access rules, thread views and turns (the thread service): what the thread routers call.

Access: a student sees only their own threads; a teacher reads the threads of students in their
cohort; an admin reads all. Only the owning student posts messages. A thread the caller may not
read is answered exactly like a missing one (404), so its existence is never revealed.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select

from tutormesh.core import consent, llm, metrics
from tutormesh.core.errors import Forbidden, Invalid, NotFound
from tutormesh.core.models import Skill
from tutormesh.server.deps import Principal, Services
from tutormesh.tools.learner_model import HISTORY_DAYS
from tutormesh.tools.session_history import summarise

_titles: dict[str, str] = {}
_titles_lock = threading.Lock()


def own_thread(services: Services, user: Principal, thread_id: str) -> dict[str, Any] | None:
    """Return `{thread_id, student_id}` when the process knows `user` owns the thread; None when unsure.

    The fast path of every turn: no SQL. None means "ask `visible_thread`", never "not yours".
    """
    if user.role == "student" and user.student_id and services.access.owner(thread_id) == user.student_id:
        return {"thread_id": thread_id, "student_id": user.student_id}
    return None


def visible_thread(services: Services, user: Principal, thread_id: str, *, write: bool = False) -> dict[str, Any]:
    """Return the thread if `user` may read it (and post to it, with `write`); else raise."""
    found = services.accounts.thread(thread_id)
    missing = NotFound("thread not found")
    if found is None:
        raise missing
    thread, cohort = found
    services.access.remember_owner(thread_id, thread["student_id"])
    own = user.role == "student" and user.student_id == thread["student_id"]
    if own:
        return thread
    readable = user.role == "admin" or (user.role == "teacher" and user.cohort is not None and user.cohort == cohort)
    if not readable:
        raise missing
    if write:
        raise Forbidden("only the student who owns a thread can post to it")
    from tutormesh.server.staff import audit  # staff -> deps, like this module; imported late to stay light

    audit(services, user, "read_thread", student_id=thread["student_id"], target=f"thread:{thread_id}")
    return thread


def skill_titles(services: Services, skills: list[str], language: str = "en") -> dict[str, str]:
    """Return display titles of skills in `language`: the curriculum's translation, else the stored title.

    The stored (English) titles are cached per process; the curriculum rarely changes.
    """
    if any(s not in _titles for s in skills):
        with services.learner.sessions() as s, _titles_lock:
            _titles.update({slug: title for slug, title in s.execute(select(Skill.slug, Skill.title))})
    translated = curriculum_titles(language) if language != "en" else {}
    return {s: translated.get(s) or _titles.get(s, s) for s in skills}


def curriculum_titles(language: str) -> dict[str, str]:
    """Skill -> its topic's title in `language` (English for an unknown language), as replies name topics."""
    from tutormesh.tools.curriculum import load_curriculum
    from tutormesh.tools.curriculum.translations import LANGUAGES

    curriculum = load_curriculum(language if language in LANGUAGES else "en")  # cached per language
    return {topic.skill: topic.title for topic in curriculum.topics()}


ADAPTATIONS_SHOWN = 10
# The profile fields a thread, a turn and a student record show (`routes.threads.ProfileOut`). The rest
# is the learner model's working state: `style_counts`, the style posterior, is summarised by
# `learning_style` and stays inside.
PROFILE_SHOWN = ("pace", "learning_style", "language", "cultural_context", "strengths", "weaknesses", "goals",
                 "style_override")


def shown_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile fields an API response carries (`PROFILE_SHOWN`)."""
    return {key: profile[key] for key in PROFILE_SHOWN if key in profile}


def learner_view(services: Services, student_id: str, *, for_student: bool = False) -> dict[str, Any]:
    """Profile, mastery per skill (with titles) and negotiations: the panel data of a student.

    `for_student`: skill titles in the student's language (staff read them in English).
    """
    learner = services.learner
    mastery = {skill: round(row["p_known"], 4) for skill, row in learner.mastery(student_id).items()}
    profile = {**shown_profile(learner.profile(student_id)),
               "adaptations": learner.adaptations(student_id, limit=ADAPTATIONS_SHOWN)}
    language = profile.get("language", "en") if for_student else "en"
    return {"profile": profile, "mastery": mastery, "skills": skill_titles(services, list(mastery), language),
            "negotiations": learner.negotiations(student_id)}


def session_history(services: Services, student_id: str, now: datetime | None = None,
                    language: str = "en") -> dict[str, Any]:
    """The last `HISTORY_DAYS` of the student's sessions (tools/session_history.py), for them and their teacher.

    Skill titles are in `language` (the student's own view passes theirs).
    """
    from tutormesh.agents.reflection import reflections

    now = now or datetime.now(UTC)
    answers, rows = reflections(services.learner).since(student_id, now - timedelta(days=HISTORY_DAYS))
    mastery = services.learner.mastery(student_id)
    titles = skill_titles(services, sorted({str(a["skill"]) for a in answers} | set(mastery)), language)
    return summarise(answers, rows, now, mastery=mastery, titles=titles)


def thread_view(services: Services, thread: dict[str, Any], *, for_student: bool = False) -> dict[str, Any]:
    """What `GET /v1/threads/{id}` returns: the full history from SQL plus the learner model."""
    return {**thread, "messages": services.learner.history(thread["thread_id"]),
            **learner_view(services, thread["student_id"], for_student=for_student)}


def turn_result(services: Services, thread: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """What a turn returns: the replies, the graded answer if any, and the learner model the turn saw.

    Profile, mastery and negotiations come from the turn's state (the graph loaded them from SQL
    and updated them), which saves re-reading them; `GET /v1/threads/{id}` reads SQL afresh.
    """
    from tutormesh.graphs.runtime import new_replies

    metrics.observe_turn(state)
    item = state.get("current_item")
    grade = state.get("last_grade") if state.get("intent") == "answer" else None  # last_grade outlives its turn
    current = {"prompt": item["prompt"], "skill": item["skill"], "difficulty": item["difficulty"]} if item else None
    mastery = dict(state.get("mastery") or {})
    profile = shown_profile(state.get("profile") or services.learner.profile(thread["student_id"]))
    language = state.get("language") or profile.get("language", "en")  # the language of the turn's replies
    return {"thread_id": thread["thread_id"], "replies": new_replies(state), "intent": state.get("intent"),
            "topic": state.get("topic"), "last_grade": grade, "current_item": current, "profile": profile,
            "mastery": mastery, "skills": skill_titles(services, list(mastery), language),
            "negotiations": state.get("negotiations") or []}


def clean_content(content: str, max_chars: int, max_tokens: int) -> str:
    """Validate a chat message: not blank, not over the limits in characters and tokens; return it stripped.

    NUL characters and lone surrogates never get this far (`middleware.CleanText`).
    """
    text = content.strip()
    if not text:
        raise Invalid("content: must not be blank")
    if len(text) > max_chars:
        raise Invalid(f"content: at most {max_chars} characters (got {len(text)})")
    if "\x00" in text:
        raise Invalid("content: must not contain NUL characters")
    tokens = llm.estimate_tokens(text)
    if tokens > max_tokens:
        raise Invalid(f"content: at most about {max_tokens} tokens (this is about {tokens}: emoji and some "
                      "scripts take several tokens per character)")
    return text


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def check_idempotency_key(key: str | None) -> str | None:
    """Validate an `Idempotency-Key` header (1-128 of letters, digits and _ . : -), if sent."""
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise Invalid("Idempotency-Key: 1-128 characters: letters, digits and _ . : -")
    return key


def run_turn_once(services: Services, user: Principal, thread: dict[str, Any], text: str,
                  key: str | None) -> bytes:
    """Run a turn (the JSON form) and return its encoded result; with a key, at most once.

    A retry with the same `Idempotency-Key` (same user, thread and message) gets the stored result
    instead of a second turn: a client whose response was lost can safely send again.
    """
    if key is None:
        return orjson.dumps(run_turn(services, thread, text))
    accounts, digest = services.accounts, hashlib.sha256(text.encode()).hexdigest()
    stored = accounts.claim_turn(user.id, thread["thread_id"], key, digest)
    if stored is not None:
        return stored.encode()
    try:
        encoded = orjson.dumps(run_turn(services, thread, text))
    except BaseException:
        accounts.release_turn(user.id, thread["thread_id"], key)
        raise
    accounts.finish_turn(user.id, thread["thread_id"], key, encoded.decode())
    return encoded


def stream_turn_once(services: Services, user: Principal, thread: dict[str, Any], text: str,
                     key: str | None) -> Iterator[dict[str, Any]]:
    """Stream a turn like `stream_turn`; with a key already used, replay its stored `state` event only."""
    if key is None:
        yield from stream_turn(services, thread, text)
        return
    accounts, digest = services.accounts, hashlib.sha256(text.encode()).hexdigest()
    stored = accounts.claim_turn(user.id, thread["thread_id"], key, digest)
    if stored is not None:
        yield {"event": "state", **orjson.loads(stored)}
        return
    finished = False
    try:
        for event in stream_turn(services, thread, text):
            if event["event"] == "state":
                result = {k: v for k, v in event.items() if k != "event"}
                accounts.finish_turn(user.id, thread["thread_id"], key, orjson.dumps(result).decode())
                finished = True
            yield event
    finally:
        if not finished:
            accounts.release_turn(user.id, thread["thread_id"], key)


def consented_text(services: Services, student_id: str, text: str) -> tuple[str, bool]:
    """Return what the turn may see and store, and whether LLM calls are off (see `minimised_text`)."""
    return minimised_text(services.learner.sessions, services.settings.consent_required_bands, student_id, text)


def minimised_text(sessions: Any, bands: Any, student_id: str, text: str) -> tuple[str, bool]:
    """Return what the turn may see and store, and whether LLM calls are off (docs/data-protection.md).

    A student under 13 without a guardian's recorded consent keeps tier-1 tutoring, but their words
    become a fixed command or a math answer before the graph (and so any store) sees them.
    """
    if not consent.is_restricted(sessions, student_id, bands):
        return text, False
    from tutormesh.agents.understanding import understand
    from tutormesh.tools.curriculum import load_curriculum

    reading = understand(text, problem_open=False)
    topic = load_curriculum().topic(reading.topics[0]) if reading.topics else None
    return consent.minimised_message(text, reading.intent, topic.title if topic else None), True


def run_turn(services: Services, thread: dict[str, Any], text: str) -> dict[str, Any]:
    """Run one turn to completion (the JSON form of `POST /messages`)."""
    tutor = services.tutor
    text, restricted = consented_text(services, thread["student_id"], text)
    with services.lifecycle.lock(thread["thread_id"]), llm.no_external_llm(restricted):
        services.lifecycle.before_turn(thread["student_id"], thread["thread_id"])
        state = tutor.send(thread["student_id"], thread["thread_id"], text)
    return turn_result(services, thread, state)


def stream_turn(services: Services, thread: dict[str, Any], text: str) -> Iterator[dict[str, Any]]:
    """Run one turn, yielding stage and token events, then a `state` event with the turn result."""
    tutor = services.tutor
    text, restricted = consented_text(services, thread["student_id"], text)
    # The whole stream runs in one worker thread (sse.iterate_in_thread), so the block holds throughout.
    with services.lifecycle.lock(thread["thread_id"]), llm.no_external_llm(restricted):
        services.lifecycle.before_turn(thread["student_id"], thread["thread_id"])
        for event in tutor.stream(thread["student_id"], thread["thread_id"], text):
            if event["event"] == "state":
                yield {"event": "state", **turn_result(services, thread, event["state"])}
            else:
                yield event

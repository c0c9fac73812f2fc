"""Consent for minors: a date-of-birth band, a guardian's consent, and what a restricted student may keep.

COPPA (under 13 by default; every minor band for India's DPDP Act, see `consent_required_bands`):
until a guardian's consent is recorded, none of the student's free text is stored and no LLM is
called for them (docs/data-protection.md).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Invalid, NotFound
from tutormesh.core.models import User
from tutormesh.core.privacy import audit
from tutormesh.core.settings import Settings, get_settings

_consent_cache: TTLCache[str, bool] = TTLCache(maxsize=100_000, ttl=30)
_consent_lock = threading.Lock()
# A math answer: numbers, operators and single-letter variables ("x = 3", "-2, 2", "3/4", "sqrt(2)").
_MATH_ANSWER = re.compile(r"^(?:[\s\d.,=<>≤≥±√π^*/+\-−()]|\b(?:[a-zA-Z]|or|and|sqrt|pi)\b){1,40}$")
# The fixed command a restricted student's request becomes, by the student agent's intent.
_COMMANDS = {"hint": "hint", "review": "review my progress", "practice": "practice", "learn": "learn",
             "greet": "hello", "goodbye": "bye"}


def needs_guardian_consent(dob_band: str | None, guardian_consent_at: datetime | None,
                           bands: Iterable[str] = ("under13",)) -> bool:
    """Whether a guardian's consent is needed and missing (COPPA: under 13; DPDP: every minor band).

    An unknown band is not a minor's: schools record the band of their young students.
    """
    return dob_band in set(bands) and guardian_consent_at is None


def is_restricted(sessions: sessionmaker[Session], student_id: str, bands: Iterable[str] = ("under13",)) -> bool:
    """Whether this student's free text must not be stored nor sent to an LLM (cached 30 s per process)."""
    with _consent_lock:
        cached = _consent_cache.get(student_id)
    if cached is not None:
        return cached
    with sessions() as s:
        row = s.execute(select(User.dob_band, User.guardian_consent_at).where(User.student_id == student_id)).first()
    restricted = bool(row and needs_guardian_consent(row[0], row[1], bands))
    with _consent_lock:
        _consent_cache[student_id] = restricted
    return restricted


def minimised_message(text: str, intent: str, topic_title: str | None = None) -> str:
    """Replace a restricted student's message by what the platform may keep: a math answer, or a command.

    `intent` is the student agent's reading of the text and `topic_title` the curriculum topic it
    names, if any. A recognised request becomes its fixed command ("practice Linear equations",
    "hint", "review my progress"); anything else, free-form questions included, becomes "learn"
    (the lesson, tier 1). The student's own words are never passed on.
    """
    stripped = text.strip()
    if len(stripped) <= 40 and _MATH_ANSWER.match(stripped):
        return stripped
    command = _COMMANDS.get(intent, "learn")
    if command in ("practice", "learn") and topic_title:
        return f"{command} {topic_title}"
    return command


def set_consent(username: str, *, dob_band: str | None = None, guardian_consent: str | None = None,
                settings: Settings | None = None, actor: str = "cli") -> dict[str, Any]:
    """Record a student's date-of-birth band and/or guardian consent ("yes" records it, "no" withdraws it)."""
    from tutormesh.core.models.accounts import DOB_BANDS

    settings = settings or get_settings()
    if dob_band is not None and dob_band not in DOB_BANDS:
        raise Invalid(f"dob_band: one of {', '.join(DOB_BANDS)}")
    sessions = sessionmaker_for(settings)
    with sessions.begin() as s:
        user = s.scalar(select(User).where(User.username == username, User.role == "student"))
        if user is None:
            raise NotFound(f"no student named {username!r}")
        if dob_band is not None:
            user.dob_band = dob_band
        if guardian_consent is not None:
            user.guardian_consent_at = datetime.now(UTC) if guardian_consent == "yes" else None
        state = {"dob_band": user.dob_band, "guardian_consent": user.guardian_consent_at is not None,
                 "restricted": needs_guardian_consent(user.dob_band, user.guardian_consent_at,
                                                      settings.consent_required_bands)}
        student_id = user.student_id
    if student_id:
        with _consent_lock:
            _consent_cache.pop(student_id, None)
    audit(sessions, "consent", actor, {"dob_band": state["dob_band"], "guardian_consent": state["guardian_consent"]})
    return state

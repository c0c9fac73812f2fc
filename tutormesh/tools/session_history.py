"""The last `HISTORY_DAYS` of a student's sessions, summarised for the student and their teacher.

Pure: it reads graded answers (engagement rows) and reflections and returns what the profile shows:
totals, per skill (answers, accuracy, time on task, when last practised), per session, the reflections,
and the skills due a spaced review (the same rule the planner turns to, `learner_model.due_reviews`).
A session is the answers a reflection covers (`first_engagement_id`..`last_engagement_id`, see
docs/learner-model.md "Reflections"); answers after the latest reflection are the open session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tutormesh.tools.learner_model import HISTORY_DAYS, due_reviews

SESSIONS_SHOWN = 10


def _when(value: Any) -> datetime:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(when, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _tally(answers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    right = sum(1 for a in answers if a["correct"])
    return {"answers": len(answers), "right": right,
            "accuracy": round(right / len(answers), 3) if answers else None,
            "time_on_task_s": round(sum(float(a.get("seconds") or 0.0) for a in answers), 1),
            "hints_used": sum(int(a.get("hints_used") or 0) for a in answers)}


def summarise(answers: Sequence[Mapping[str, Any]], reflections: Sequence[Mapping[str, Any]], now: datetime, *,
              mastery: Mapping[str, Mapping[str, Any]] | None = None, titles: Mapping[str, str] | None = None,
              days: int = HISTORY_DAYS) -> dict[str, Any]:
    """Summarise the sessions of the last `days` days ending at `now`.

    Args:
        answers: graded answers, each with `id`, `skill`, `correct`, `seconds`, `hints_used`, `created_at`.
        reflections: each with `first_engagement_id`, `last_engagement_id`, `created_at`, `summary`, `trigger`.
        now: the end of the window (aware).
        mastery: skill -> mastery row (`attempts`, `last_practised`) for the spaced reviews due.
        titles: skill -> title shown next to the slug.
        days: the window's length.

    Returns:
        `days`, `since`, totals (`sessions`, `answers`, `right`, `accuracy`, `time_on_task_s`,
        `hints_used`), `skills` (most recently practised first), `sessions` (newest first, at most
        `SESSIONS_SHOWN`), `reflections` (newest first) and `due_reviews` (skills, oldest first).
    """
    since = now - timedelta(days=days)
    titles = titles or {}
    recent = sorted((a for a in answers if since <= _when(a["created_at"]) <= now), key=lambda a: int(a["id"]))
    kept = sorted((r for r in reflections if since <= _when(r["created_at"]) <= now),
                  key=lambda r: int(r["last_engagement_id"]))
    skills: dict[str, list[Mapping[str, Any]]] = {}
    for a in recent:
        skills.setdefault(str(a["skill"]), []).append(a)
    per_skill = [{"skill": skill, "title": titles.get(skill, skill), **_tally(rows),
                  "last_practised": _when(rows[-1]["created_at"]).isoformat()} for skill, rows in skills.items()]
    per_skill.sort(key=lambda row: str(row["last_practised"]), reverse=True)
    sessions = []
    for r in kept:
        rows = [a for a in recent if int(r["first_engagement_id"]) <= int(a["id"]) <= int(r["last_engagement_id"])]
        if rows:
            sessions.append(_session(rows, titles, reflection=r))
    open_rows = [a for a in recent if not kept or int(a["id"]) > int(kept[-1]["last_engagement_id"])]
    if open_rows:
        sessions.append(_session(open_rows, titles, reflection=None))
    sessions.sort(key=lambda s: str(s["ended_at"]), reverse=True)
    return {"days": days, "since": since.isoformat(), "sessions": len(sessions), **_tally(recent),
            "skills": per_skill, "recent_sessions": sessions[:SESSIONS_SHOWN],
            "reflections": [{"created_at": _when(r["created_at"]).isoformat(), "trigger": r.get("trigger"),
                             "summary": r.get("summary", "")} for r in reversed(kept)],
            "due_reviews": [{"skill": s, "title": titles.get(s, s)} for s in due_reviews(mastery or {}, now)]}


def _session(rows: Sequence[Mapping[str, Any]], titles: Mapping[str, str], *,
             reflection: Mapping[str, Any] | None) -> dict[str, Any]:
    practised = list(dict.fromkeys(str(a["skill"]) for a in rows))
    ended = _when(reflection["created_at"]) if reflection else _when(rows[-1]["created_at"])
    return {"started_at": _when(rows[0]["created_at"]).isoformat(), "ended_at": ended.isoformat(),
            "open": reflection is None, **_tally(rows),
            "skills": [{"skill": s, "title": titles.get(s, s)} for s in practised],
            "reflection": reflection.get("summary") if reflection else None}


__all__ = ["SESSIONS_SHOWN", "summarise"]

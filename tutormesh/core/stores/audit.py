"""The audit log: which staff member read or acted on which student's data, and when.

Entries name ids and the kind of access only, never the data read, so the log itself holds no
student content. Writes are best effort for reads (a failed audit write is logged, not raised, so
a full disk never hides a transcript from the tutor answering it) and part of the transaction for
actions that change data.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.models import AuditEntry, User

log = logging.getLogger(__name__)


def _iso(ts: datetime) -> str:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).isoformat()


class AuditLog:
    """Append and read audit entries over one database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Use the given session factory."""
        self.sessions = sessions

    def record(self, actor_id: str, actor_role: str, action: str, *, student_id: str | None = None,
               target: str = "") -> None:
        """Append one entry; never raises (an audit failure is logged with ids only)."""
        try:
            with self.sessions.begin() as s:
                s.add(AuditEntry(actor_id=actor_id, actor_role=actor_role, action=action[:40],
                                 student_id=student_id, target=target[:120]))
        except Exception:  # noqa: BLE001 - reads go on; the failure is visible in the server log
            log.exception("audit write failed: actor %s action %s", actor_id, action)

    def entries(self, *, student_id: str | None = None, actor_id: str | None = None,
                limit: int = 200) -> list[dict[str, Any]]:
        """Return the newest entries first, with the actor's and student's usernames."""
        actor = User.__table__.alias("actor")
        student = User.__table__.alias("student")
        query = (select(AuditEntry, actor.c.username, student.c.username)
                 .outerjoin(actor, actor.c.id == AuditEntry.actor_id)
                 .outerjoin(student, student.c.student_id == AuditEntry.student_id)
                 .order_by(AuditEntry.id.desc()).limit(limit))
        if student_id is not None:
            query = query.where(AuditEntry.student_id == student_id)
        if actor_id is not None:
            query = query.where(AuditEntry.actor_id == actor_id)
        with self.sessions() as s:
            return [{"id": e.id, "at": _iso(e.created_at), "actor": who or e.actor_id, "actor_role": e.actor_role,
                     "action": e.action, "student": name, "student_id": e.student_id, "target": e.target}
                    for e, who, name in s.execute(query)]

"""Who on the staff may see which students: cohort scopes, the console's stores, and the audit trail.

Scopes: an admin sees every cohort (`None`); a teacher sees their own cohort; a tutor sees the
cohorts of the pool they serve (set by an admin in their staff profile). A record outside the
caller's scope is answered exactly like a missing one (404), so its existence is not revealed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from tutormesh.core.db import sessionmaker_for
from tutormesh.core.errors import Forbidden, NotFound
from tutormesh.core.stores.audit import AuditLog
from tutormesh.core.stores.escalations import EscalationStore
from tutormesh.core.stores.staff import StaffStore
from tutormesh.server.deps import CurrentUser, Principal, Services

Scope = frozenset[str] | None  # None: every cohort
_lock = threading.Lock()


@dataclass(frozen=True)
class ConsoleStores:
    """The stores the console's routes use, built once per process."""

    escalations: EscalationStore
    audit: AuditLog
    staff: StaffStore


def stores(services: Services) -> ConsoleStores:
    """Return this process's console stores (created on first use over the app's database)."""
    found = services.extras.get("console")
    if isinstance(found, ConsoleStores):
        return found
    with _lock:
        if "console" not in services.extras:
            sessions = sessionmaker_for(services.settings)
            services.extras["console"] = ConsoleStores(EscalationStore(sessions), AuditLog(sessions),
                                                       StaffStore(sessions))
        made: ConsoleStores = services.extras["console"]
        return made


def scope_of(services: Services, user: Principal) -> Scope:
    """Return the cohorts a staff member may see (None: all); students may see none."""
    if user.role == "admin":
        return None
    if user.role == "teacher":
        return frozenset([user.cohort] if user.cohort else [])
    if user.role == "tutor":  # the pool in their staff profile, plus a cohort of their own if they have one
        served = stores(services).staff.profile(user.id)["cohorts"]
        return frozenset([*served, *([user.cohort] if user.cohort else [])])
    raise Forbidden("staff only")


def check_cohort(scope: Scope, cohort: str | None) -> None:
    """Raise NotFound unless the cohort is in scope."""
    if scope is not None and (cohort is None or cohort not in scope):
        raise NotFound("cohort not found")


def require_console(user: CurrentUser) -> Principal:
    """Allow teachers, tutors and admins (the console's users)."""
    if user.role not in ("teacher", "tutor", "admin"):
        raise Forbidden("teachers, tutors and admins only")
    return user


def require_teaching(user: CurrentUser) -> Principal:
    """Allow teachers and admins (quizzes and cohort dashboards; tutors answer escalations only)."""
    if user.role not in ("teacher", "admin"):
        raise Forbidden("teachers and admins only")
    return user


def audit(services: Services, user: Principal, action: str, *, student_id: str | None = None,
          target: str = "") -> None:
    """Record a staff access to a student's data (a student reading their own data is not logged)."""
    if user.role != "student":
        stores(services).audit.record(user.id, user.role, action, student_id=student_id, target=target)


ConsoleUser = Annotated[Principal, Depends(require_console)]
Teaching = Annotated[Principal, Depends(require_teaching)]

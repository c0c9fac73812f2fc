"""Staff profiles: the name a student sees on a human tutor's reply, and the cohorts a tutor serves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.errors import Invalid, NotFound
from tutormesh.core.models import StaffProfile, User
from tutormesh.core.stores.accounts import COHORT

STAFF_ROLES = ("teacher", "tutor", "admin")


class StaffStore:
    """Read and write staff profiles over one database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Use the given session factory."""
        self.sessions = sessions

    def profile(self, user_id: str) -> dict[str, Any]:
        """Return `{display_name, cohorts}`; a staff member without a profile is named by username."""
        with self.sessions() as s:
            found = s.execute(select(User.username, StaffProfile.display_name, StaffProfile.cohorts)
                              .outerjoin(StaffProfile, StaffProfile.user_id == User.id)
                              .where(User.id == user_id)).first()
            if found is None:
                raise NotFound("user not found")
            username, name, cohorts = found
            return {"display_name": name or username, "cohorts": list(cohorts or [])}

    def set_profile(self, user_id: str, *, display_name: str | None = None,
                    cohorts: list[str] | None = None) -> dict[str, Any]:
        """Set a staff member's display name and (tutors) the cohorts they serve."""
        if display_name is not None and not (1 <= len(display_name.strip()) <= 80):
            raise Invalid("display_name: 1 to 80 characters")
        for cohort in cohorts or []:
            if not COHORT.fullmatch(cohort):
                raise Invalid(f"cohorts: {cohort!r} is not a valid cohort name")
        with self.sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user not found")
            if user.role not in STAFF_ROLES:
                raise Invalid("only teachers, tutors and admins have staff profiles")
            row = s.get(StaffProfile, user_id)
            if row is None:
                row = StaffProfile(user_id=user_id, display_name=user.username, cohorts=[])
                s.add(row)
            if display_name is not None:
                row.display_name = display_name.strip()
            if cohorts is not None:
                row.cohorts = sorted(set(cohorts))
            return {"display_name": row.display_name, "cohorts": list(row.cohorts)}

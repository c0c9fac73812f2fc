"""Roster import from CSV: check every row first, then create all users in one transaction or none.

Columns (a header row, in any order): `username`, `role` (student, teacher, tutor; default student),
`cohort`, and optionally `password` and `display_name`. A row without a password gets a generated
one, returned once in the apply result so the teacher can hand it out.
"""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.core.errors import Invalid, TutorMeshError
from tutormesh.core.models import Profile, StaffProfile, Student, User
from tutormesh.core.stores.accounts import check_user_fields

MAX_ROWS = 2000
COLUMNS = ("username", "role", "cohort", "password", "display_name")
IMPORT_ROLES = ("student", "teacher", "tutor")  # admins are made one at a time, on purpose


def parse(text: str) -> list[dict[str, str]]:
    """Read the CSV into rows of known columns; raise Invalid for a missing header or unknown columns."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "username" not in header:
        raise Invalid("csv: the first row must be a header with at least a 'username' column")
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise Invalid(f"csv: unknown columns {unknown}; known: {', '.join(COLUMNS)}")
    rows = []
    for raw in reader:
        rows.append({k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None})
        if len(rows) > MAX_ROWS:
            raise Invalid(f"csv: at most {MAX_ROWS} rows per import")
    if not rows:
        raise Invalid("csv: no rows under the header")
    return rows


def check(s: Session, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Return one error per bad row: `{"line", "username", "error"}` (line 2 is the first data row)."""
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    names = [r.get("username", "") for r in rows]
    taken = set(s.scalars(select(User.username).where(User.username.in_(names))))
    for line, row in enumerate(rows, 2):
        name, role = row.get("username", ""), row.get("role") or "student"
        cohort, password = row.get("cohort") or None, row.get("password", "")
        try:
            if not name:
                raise Invalid("username: missing")
            check_user_fields(name, None, cohort)
            if role not in IMPORT_ROLES:
                raise Invalid(f"role: one of {', '.join(IMPORT_ROLES)}")
            if role in ("student", "teacher") and cohort is None:
                raise Invalid(f"cohort: required for a {role}")
            if password and not 8 <= len(password) <= 256:
                raise Invalid("password: 8 to 256 characters")
            if len(row.get("display_name", "")) > 80:
                raise Invalid("display_name: at most 80 characters")
            if name in taken:
                raise Invalid("username: already taken")
            if name in seen:
                raise Invalid(f"username: also on line {seen[name]}")
        except TutorMeshError as exc:
            errors.append({"line": line, "username": name or None, "error": exc.message})
        seen.setdefault(name, line)
    return errors


def run(sessions: sessionmaker[Session], text: str, *, apply: bool,
        hash_password: Callable[[str], str]) -> dict[str, Any]:
    """Dry run (`apply=False`) or import; nothing is written unless every row is valid."""
    rows = parse(text)
    with sessions.begin() as s:
        errors = check(s, rows)
        summary: dict[str, Any] = {"rows": len(rows), "valid": len(rows) - len(errors), "errors": errors,
                                   "applied": False, "created": []}
        if errors or not apply:
            return summary
        for row in rows:
            summary["created"].append(_create(s, row, hash_password))
        summary["applied"] = True
        return summary


def _create(s: Session, row: dict[str, str], hash_password: Callable[[str], str]) -> dict[str, Any]:
    name, role, cohort = row["username"], row.get("role") or "student", row.get("cohort") or None
    generated = not row.get("password")
    password = row.get("password") or secrets.token_urlsafe(9)
    student_id = None
    if role == "student":
        student_id = s.scalar(select(Student.id).where(Student.name == name))
        if student_id is None:
            student_id = uuid.uuid4().hex[:12]
            s.add(Student(id=student_id, name=name))
            s.flush()
            s.add(Profile(student_id=student_id))
    user = User(id=uuid.uuid4().hex, username=name, password_hash=hash_password(password), role=role, cohort=cohort,
                student_id=student_id)
    s.add(user)
    s.flush()
    if role != "student" and (row.get("display_name") or role == "tutor"):
        s.add(StaffProfile(user_id=user.id, display_name=row.get("display_name") or name,
                           cohorts=[cohort] if role == "tutor" and cohort else []))
    out: dict[str, Any] = {"id": user.id, "username": name, "role": role, "cohort": cohort}
    if generated:
        out["password"] = password  # shown once, to the admin who imported the roster
    return out

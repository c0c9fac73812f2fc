"""The privacy audit log: exports, erasures and retention runs, with counts and no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutormesh.core.models.base import Base, utcnow


class PrivacyAudit(Base):
    """One privacy action. `reference` is a random id per action, never the student's id or name."""

    __tablename__ = "privacy_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(20))  # export | erase | retention
    reference: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))  # the admin's user id, or "cli"
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # rows removed per store, never content
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

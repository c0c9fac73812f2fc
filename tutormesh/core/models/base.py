"""Declarative base and the timestamp every row uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> datetime:
    """Return an aware UTC timestamp (the only clock rows use)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base; JSON columns hold small documents, never large blobs."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}

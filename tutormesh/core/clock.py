"""The one clock: wall time, or a fixed instant a caller passes (tests, replays, Studio runs)."""

from __future__ import annotations

from datetime import UTC, datetime


def now(override: str | None = None) -> datetime:
    """Return `override` (ISO 8601) as an aware UTC datetime, or the current time."""
    if not override:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(override)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

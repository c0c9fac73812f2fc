"""Domain errors: raised anywhere, turned into `{"error": {"code", "message"}}` by the server only.

Each error class carries its stable `code` (what clients branch on) and the HTTP `status` the API
answers with. Messages are shown to users: say what is wrong and never echo secrets or PII.
"""

from __future__ import annotations


class TutorMeshError(Exception):
    """Base of every expected failure; anything else is an internal error (500)."""

    code: str = "internal"
    status: int = 500

    def __init__(self, message: str = "internal error") -> None:
        """Keep a user-facing message."""
        super().__init__(message)
        self.message = message


class Invalid(TutorMeshError):
    """The request is well-formed but its content is not acceptable."""

    code, status = "invalid", 422


class Unauthorized(TutorMeshError):
    """No valid credentials (missing, wrong or expired)."""

    code, status = "unauthorized", 401


class TokenExpired(Unauthorized):
    """The bearer token was valid but has expired: log in again."""

    code = "token_expired"


class TokenRevoked(Unauthorized):
    """The token was issued before the user's password or role changed: log in again."""

    code = "token_revoked"


class Locked(TutorMeshError):
    """Too many failed sign-ins for this username: refused until `retry_after` seconds pass."""

    code, status = "locked", 429

    def __init__(self, message: str = "too many failed sign-ins", *, retry_after: int = 1) -> None:
        """Remember how long the client should wait."""
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Forbidden(TutorMeshError):
    """Authenticated, but this role may not do that (used only where existence is not secret)."""

    code, status = "forbidden", 403


class NotFound(TutorMeshError):
    """Missing, or not yours: the API never reveals that someone else's record exists."""

    code, status = "not_found", 404


class Conflict(TutorMeshError):
    """The record already exists (e.g. a username is taken)."""

    code, status = "conflict", 409


class PayloadTooLarge(TutorMeshError):
    """The request body is over the configured limit."""

    code, status = "payload_too_large", 413


class RateLimited(TutorMeshError):
    """Too many requests; retry after `retry_after` seconds."""

    code, status = "rate_limited", 429

    def __init__(self, message: str = "too many requests", *, retry_after: int = 1) -> None:
        """Remember how long the client should wait."""
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Misconfigured(TutorMeshError):
    """The process cannot start or serve with the current settings."""

    code, status = "misconfigured", 500


class IngestError(Invalid):
    """An uploaded deck was refused (corrupt, encrypted, too large, not what its name says)."""

    code = "ingest_refused"

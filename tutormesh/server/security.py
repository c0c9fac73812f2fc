"""Passwords (argon2 via pwdlib) and bearer tokens (PyJWT, HS256, with expiry).

The signing secret comes from `TUTORMESH_JWT_SECRET`. On the embedded profile it is generated on
first run and kept in `data_dir/jwt_secret` (mode 0600) so tokens survive restarts; on the
production profile (Postgres) it must be configured, or the server refuses to start.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from pwdlib import PasswordHash

from tutormesh.core.errors import Invalid, Misconfigured, TokenExpired, Unauthorized
from tutormesh.core.settings import Settings

ALGORITHM = "HS256"
SECRET_FILE = "jwt_secret"
MIN_SECRET_BYTES = 32

_hasher = PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so a miss costs as much as a wrong password.
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password in constant-ish time, also when the user does not exist."""
    if password_hash is None:
        _hasher.verify(password, _dummy_hash())
        return False
    return _hasher.verify(password, password_hash)


def check_password_strength(password: str) -> None:
    """Raise Invalid when a new password is too weak to accept."""
    if len(password) < 8 or len(password) > 256:
        raise Invalid("password: 8 to 256 characters")


def signing_secret(settings: Settings) -> str:
    """Return the JWT secret: configured, or generated once into the data dir (embedded only)."""
    if settings.jwt_secret is not None:
        value = settings.jwt_secret.get_secret_value()
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise Misconfigured(f"TUTORMESH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return value
    if settings.is_production:
        raise Misconfigured("TUTORMESH_JWT_SECRET is required when TUTORMESH_DATABASE_URL is Postgres")
    return _stored_secret(settings.data_dir.resolve() / SECRET_FILE)


@lru_cache(maxsize=8)
def _stored_secret(path: Path) -> str:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def issue_token(user: dict[str, Any], settings: Settings, *, now: datetime | None = None) -> tuple[str, int]:
    """Return a signed bearer token for the user and its lifetime in seconds."""
    now = now or datetime.now(UTC)
    ttl = settings.jwt_ttl_minutes * 60
    claims = {"sub": user["id"], "role": user["role"], "ver": int(user.get("token_version") or 0), "iat": now,
              "exp": now + timedelta(seconds=ttl)}
    return jwt.encode(claims, signing_secret(settings), algorithm=ALGORITHM), ttl


def read_token(token: str, settings: Settings) -> tuple[str, int]:
    """Return the user id a token was issued to and its token version; raise Unauthorized or TokenExpired.

    The caller compares the version with the user's current one (see `deps.current_user`).
    """
    user_id, version, expires = _verified(token, signing_secret(settings))
    if expires <= time.time():
        raise TokenExpired("token expired: log in again")
    return user_id, version


@lru_cache(maxsize=16_384)
def _verified(token: str, secret: str) -> tuple[str, int, float]:
    """Check a token's signature once (a client sends the same token many times): (user id, version, exp).

    Only valid tokens are remembered (exceptions are not cached); expiry is re-checked per use.
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat"]})
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("token expired: log in again") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("invalid token") from exc
    version = claims.get("ver", 0)
    if not isinstance(version, int):
        raise Unauthorized("invalid token")
    return str(claims["sub"]), version, float(claims["exp"])

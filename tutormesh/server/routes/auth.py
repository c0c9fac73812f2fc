"""Sign-in: `POST /v1/auth/token` (OAuth2 password form), `GET /v1/auth/me`, `POST /v1/auth/password`.

Failed sign-ins are limited per client IP (in the rate-limit store) and per username (in SQL, so
every process and `tutormesh user unlock` see the same lockout); successful ones count against
neither. See docs/api.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, ConfigDict, Field

from tutormesh.core.errors import Locked, Unauthorized
from tutormesh.core.stores.accounts import USERNAME
from tutormesh.server.deps import CurrentUser, ServicesDep
from tutormesh.server.fields import USERNAME_RULE
from tutormesh.server.security import check_password_strength, hash_password, issue_token, verify_password

router = APIRouter(prefix="/auth", tags=["auth"])
UNAUTHORIZED = {401: {"description": "not signed in, or a bad, expired or revoked token"}}


class Token(BaseModel):
    """A bearer token and how long it lasts."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class Me(BaseModel):
    """The signed-in user."""

    id: str
    username: str
    role: str
    cohort: str | None
    student_id: str | None


class PasswordChange(BaseModel):
    """Your current password and the new one."""

    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class PasswordForm:
    """The OAuth2 password form (as `OAuth2PasswordRequestForm`), with every field's rule in the schema."""

    def __init__(self, username: Annotated[str, Form(pattern=USERNAME.pattern, description=USERNAME_RULE)],
                 password: Annotated[str, Form(min_length=1, max_length=256)],
                 grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
                 scope: Annotated[str, Form(max_length=1000)] = "",
                 client_id: Annotated[str | None, Form(max_length=256)] = None,
                 client_secret: Annotated[str | None, Form(max_length=256)] = None) -> None:
        """Take the form fields (scopes and client credentials are accepted and unused)."""
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


async def _check_password(services: ServicesDep, client: str, username: str, password: str) -> dict[str, Any]:
    """Return the user whose password this is; count a failure against the IP and the username."""
    await services.limits.check("login", client)
    settings = services.settings
    locked = await anyio.to_thread.run_sync(services.accounts.lockout_seconds, username)
    if locked:
        raise Locked(f"too many failed sign-ins for this username: try again in {locked} s, or ask an admin to "
                     "unlock it", retry_after=locked)
    found = await anyio.to_thread.run_sync(services.accounts.credentials, username)
    ok = await anyio.to_thread.run_sync(verify_password, password, found[1] if found else None)
    if not ok or found is None:
        await services.limits.count_failure("login", client)
        await anyio.to_thread.run_sync(lambda: services.accounts.record_failed_login(
            username, limit=settings.login_max_failures, window_s=settings.login_failure_window_s,
            lockout_s=settings.login_lockout_s))
        raise Unauthorized("incorrect username or password")
    await anyio.to_thread.run_sync(services.accounts.clear_failed_logins, username)
    return found[0]


@router.post("/token", responses={401: {"description": "wrong username or password"},
                                  422: {"description": "a field is missing or malformed"},
                                  429: {"description": "too many failed sign-ins from this IP or for this username"}})
async def login(request: Request, form: Annotated[PasswordForm, Depends()],
                services: ServicesDep) -> Token:
    """Exchange a username and password for a bearer token; a student's agent spawns here."""
    client = request.client.host if request.client else "unknown"
    user = await _check_password(services, client, form.username, form.password)
    request.state.user_id = user["id"]
    token, ttl = issue_token(user, services.settings)
    if user["student_id"]:
        await anyio.to_thread.run_sync(services.lifecycle.spawn, user["student_id"])
    return Token(access_token=token, expires_in=ttl, role=user["role"])


@router.get("/me", responses=UNAUTHORIZED)
async def me(user: CurrentUser, services: ServicesDep) -> Me:
    """Return who the token belongs to."""
    row = await anyio.to_thread.run_sync(services.accounts.get, user.id)
    if row is None:
        raise Unauthorized("invalid token")
    return Me(**row)


@router.post("/password", responses={**UNAUTHORIZED, 422: {"description": "the new password is too weak"},
                                     429: {"description": "too many failed attempts"}})
async def change_password(body: PasswordChange, request: Request, user: CurrentUser,
                          services: ServicesDep) -> Token:
    """Set a new password; every token issued before (on any device) stops working, a new one is returned."""
    row = await anyio.to_thread.run_sync(services.accounts.get, user.id)
    if row is None:
        raise Unauthorized("invalid token")
    client = request.client.host if request.client else "unknown"
    await _check_password(services, client, row["username"], body.current_password)
    check_password_strength(body.new_password)
    hashed = await anyio.to_thread.run_sync(hash_password, body.new_password)
    changed = await anyio.to_thread.run_sync(lambda: services.accounts.update_user(user.id, password_hash=hashed))
    services.access.forget_user(user.id)
    token, ttl = issue_token(changed, services.settings)
    return Token(access_token=token, expires_in=ttl, role=changed["role"])

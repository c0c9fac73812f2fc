"""Sign-in: `POST /v1/auth/token` (OAuth2 password form) and `GET /v1/auth/me`."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from tutormesh.core.errors import Unauthorized
from tutormesh.server.deps import CurrentUser, ServicesDep
from tutormesh.server.security import issue_token, verify_password

router = APIRouter(prefix="/v1/auth", tags=["auth"])


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


@router.post("/token", responses={401: {"description": "wrong username or password"}, 429: {}})
async def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()],
                services: ServicesDep) -> Token:
    """Exchange a username and password for a bearer token; a student's agent spawns here."""
    client = request.client.host if request.client else "unknown"
    await services.limits.hit("login", client)
    found = await anyio.to_thread.run_sync(services.accounts.credentials, form.username)
    user: dict[str, Any] | None = found[0] if found else None
    ok = await anyio.to_thread.run_sync(verify_password, form.password, found[1] if found else None)
    if not ok or user is None:
        raise Unauthorized("incorrect username or password")
    request.state.user_id = user["id"]
    token, ttl = issue_token(user, services.settings)
    if user["student_id"]:
        await anyio.to_thread.run_sync(services.lifecycle.spawn, user["student_id"])
    return Token(access_token=token, expires_in=ttl, role=user["role"])


@router.get("/me")
async def me(user: CurrentUser, services: ServicesDep) -> Me:
    """Return who the token belongs to."""
    row = await anyio.to_thread.run_sync(services.accounts.get, user.id)
    if row is None:
        raise Unauthorized("invalid token")
    return Me(**row)

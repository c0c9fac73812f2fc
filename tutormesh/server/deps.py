"""Request dependencies: the process's services, the signed-in user, and role checks.

Routes declare what they need with the `Annotated` aliases at the bottom (`CurrentUser`,
`Admin`, `ServicesDep`); nothing else reads tokens or app state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from tutormesh.core.errors import Forbidden, Unauthorized
from tutormesh.core.settings import Settings
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.server.ratelimit import RateLimiter
from tutormesh.server.security import read_token

if TYPE_CHECKING:
    from tutormesh.graphs.runtime import Tutor
    from tutormesh.server.lifecycle import Lifecycle

oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


@dataclass
class Services:
    """What a request may use; built once per process by the app's lifespan."""

    settings: Settings
    accounts: AccountStore
    learner: LearnerStore
    limits: RateLimiter
    lifecycle: Lifecycle
    tutor: Tutor | None = None  # opened by the app's lifespan
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """The signed-in user as routes see it (no password hash, no username needed)."""

    id: str
    role: str
    cohort: str | None
    student_id: str | None

    @classmethod
    def of(cls, user: dict[str, Any]) -> Principal:
        """Build from an AccountStore user dict."""
        return cls(user["id"], user["role"], user["cohort"], user["student_id"])


def get_services(request: Request) -> Services:
    """Return the process's services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_user(request: Request, services: ServicesDep,
                       token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    """Authenticate the bearer token, then count the request against the user's rate limit."""
    if not token:
        raise Unauthorized("not authenticated: send Authorization: Bearer <token>")
    user_id = read_token(token, services.settings)
    user = services.accounts.get(user_id)
    if user is None:
        raise Unauthorized("invalid token")
    request.state.user_id = user_id  # ids are fine in logs; usernames are not
    await services.limits.hit("user", user_id)
    return Principal.of(user)


CurrentUser = Annotated[Principal, Depends(current_user)]


def require_admin(user: CurrentUser) -> Principal:
    """Allow admins only."""
    if user.role != "admin":
        raise Forbidden("admins only")
    return user


def require_staff(user: CurrentUser) -> Principal:
    """Allow teachers and admins."""
    if user.role not in ("teacher", "admin"):
        raise Forbidden("teachers and admins only")
    return user


Admin = Annotated[Principal, Depends(require_admin)]
Staff = Annotated[Principal, Depends(require_staff)]

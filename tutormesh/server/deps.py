"""Request dependencies: the process's services, the signed-in user, and role checks.

Routes declare what they need with the `Annotated` aliases at the bottom (`CurrentUser`,
`Admin`, `ServicesDep`); nothing else reads tokens or app state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import anyio.to_thread
from cachetools import LRUCache, TTLCache
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from tutormesh.core.errors import Forbidden, NotFound, TokenRevoked, Unauthorized
from tutormesh.core.settings import Settings
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.server.ratelimit import RateLimiter
from tutormesh.server.security import read_token

if TYPE_CHECKING:
    from tutormesh.graphs.runtime import Tutor
    from tutormesh.server.lifecycle import Lifecycle

oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


class AccessCache:
    """Who a token's user is and which student owns a thread, remembered per process.

    Every turn needs both, and reading them from SQL cost more than a third of the API's own work
    per turn (measured). A thread's owner never changes, so it is kept until evicted; a user is
    trusted for `auth_cache_seconds` (see Settings) and forgotten at once when this process
    changes or deletes them.
    """

    def __init__(self, user_seconds: float) -> None:
        """Bound both caches; nothing is remembered when `user_seconds` is 0."""
        self._users: TTLCache[str, Principal] | None = (
            TTLCache(maxsize=100_000, ttl=user_seconds) if user_seconds > 0 else None)
        self._owners: LRUCache[str, str] = LRUCache(maxsize=200_000)
        self._lock = threading.Lock()  # cachetools caches are not thread-safe

    def user(self, user_id: str) -> Principal | None:
        """Return the remembered user, or None."""
        if self._users is None:
            return None
        with self._lock:
            return self._users.get(user_id)

    def remember_user(self, user: Principal) -> None:
        """Remember a user read from SQL."""
        if self._users is not None:
            with self._lock:
                self._users[user.id] = user

    def forget_user(self, user_id: str) -> None:
        """Drop a user this process just changed or deleted."""
        if self._users is not None:
            with self._lock:
                self._users.pop(user_id, None)

    def owner(self, thread_id: str) -> str | None:
        """Return the student id owning a thread, if known."""
        with self._lock:
            return self._owners.get(thread_id)

    def remember_owner(self, thread_id: str, student_id: str) -> None:
        """Remember a thread's owner read from SQL."""
        with self._lock:
            self._owners[thread_id] = student_id


@dataclass
class Services:
    """What a request may use; built once per process by the app's lifespan."""

    settings: Settings
    accounts: AccountStore
    learner: LearnerStore
    limits: RateLimiter
    lifecycle: Lifecycle
    access: AccessCache
    tutor: Tutor | None = None  # opened by the app's lifespan
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """The signed-in user as routes see it (no password hash, no username needed)."""

    id: str
    role: str
    cohort: str | None
    student_id: str | None
    token_version: int = 0

    @classmethod
    def of(cls, user: dict[str, Any]) -> Principal:
        """Build from an AccountStore user dict."""
        return cls(user["id"], user["role"], user["cohort"], user["student_id"], int(user.get("token_version") or 0))


def get_services(request: Request) -> Services:
    """Return the process's services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_user(request: Request, services: ServicesDep,
                       token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    """Authenticate the bearer token, then count the request against the user's rate limit.

    A token issued before the user's latest password or role change carries an older version and
    is refused: at once in the process that made the change, within `auth_cache_seconds` elsewhere.
    """
    if not token:
        raise Unauthorized("not authenticated: send Authorization: Bearer <token>")
    user_id, version = read_token(token, services.settings)
    principal = services.access.user(user_id)
    if principal is None:
        user = await anyio.to_thread.run_sync(services.accounts.get, user_id)
        if user is None:
            raise Unauthorized("invalid token")
        principal = Principal.of(user)
        services.access.remember_user(principal)
    if version != principal.token_version:
        raise TokenRevoked("token revoked (the password or role changed): log in again")
    request.state.user_id = user_id  # ids are fine in logs; usernames are not
    await services.limits.hit("user", user_id)
    return principal


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


def cohort_scope(user: Principal, cohort: str | None = None) -> str | None:
    """Return the cohort a staff read is limited to (None: every cohort, admins only).

    A teacher reads their own cohort only: naming another one, or having none, is a 404 (a
    teacher with no cohort sees nothing).
    """
    if user.role == "admin":
        return cohort
    if user.cohort is None or cohort not in (None, user.cohort):
        raise NotFound("cohort not found")
    return user.cohort


Admin = Annotated[Principal, Depends(require_admin)]
Staff = Annotated[Principal, Depends(require_staff)]

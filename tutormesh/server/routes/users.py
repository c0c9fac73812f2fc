"""User administration (admins only): list, create, change, unlock after failed sign-ins, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from tutormesh.core.errors import Invalid, NotFound
from tutormesh.server.deps import Admin, Services, ServicesDep
from tutormesh.server.fields import Cohort, CohortQuery, NewPassword, Username
from tutormesh.server.security import check_password_strength, hash_password

router = APIRouter(prefix="/users", tags=["users"], responses={
    401: {"description": "not signed in, or a bad, expired or revoked token"},
    403: {"description": "admins only"}, 422: {"description": "malformed input, with the reason"}})
UserId = Annotated[str, Path(pattern=r"^[a-f0-9]{32}$", description="a user id")]
Role = Literal["student", "teacher", "tutor", "admin"]


class UserOut(BaseModel):
    """A user as admins see it (never the password hash)."""

    id: str
    username: str
    role: str
    cohort: str | None
    student_id: str | None


class NewUser(BaseModel):
    """A user to create; a student gets a learner record of their own."""

    model_config = ConfigDict(extra="forbid")
    username: Username
    password: NewPassword
    role: Role
    cohort: Cohort | None = None


class UserChange(BaseModel):
    """Fields an admin may change (a new password or role signs the user out everywhere)."""

    model_config = ConfigDict(extra="forbid")
    cohort: Cohort | None = None
    # Null is refused for these (with a reason), so the schema does not offer it.
    password: NewPassword | SkipJsonSchema[None] = None
    role: Literal["teacher", "admin"] | SkipJsonSchema[None] = Field(default=None,
                                                                   description="staff only: teacher <-> admin")


@router.get("", responses={200: {"description": "users, by username"}})
async def list_users(_admin: Admin, services: ServicesDep, role: Role | SkipJsonSchema[None] = None,
                     cohort: CohortQuery = None) -> list[UserOut]:
    """List users, optionally by role and cohort."""
    rows = await anyio.to_thread.run_sync(lambda: services.accounts.list_users(role, cohort))
    return [UserOut(**r) for r in rows]


@router.post("", status_code=201, responses={409: {"description": "username taken"}})
async def create_user(body: NewUser, _admin: Admin, services: ServicesDep) -> UserOut:
    """Create a user."""
    check_password_strength(body.password)
    hashed = await anyio.to_thread.run_sync(hash_password, body.password)
    row = await anyio.to_thread.run_sync(
        lambda: services.accounts.create_user(body.username, hashed, body.role, body.cohort))
    return UserOut(**row)


@router.patch("/{user_id}", responses={404: {"description": "no such user"}})
async def change_user(user_id: UserId, body: UserChange, _admin: Admin, services: ServicesDep) -> UserOut:
    """Move a user to another cohort, set a new password, or change a staff role."""
    fields: dict[str, Any] = body.model_dump(exclude_unset=True)
    for key in ("password", "role"):
        if key in fields and fields[key] is None:
            raise Invalid(f"{key}: must not be null")
    if "password" in fields:
        check_password_strength(fields["password"])
        fields["password_hash"] = await anyio.to_thread.run_sync(hash_password, fields.pop("password"))
    row = await anyio.to_thread.run_sync(lambda: services.accounts.update_user(user_id, **fields))
    services.access.forget_user(user_id)
    return UserOut(**row)


@router.post("/{user_id}/unlock", responses={404: {"description": "no such user"}})
async def unlock_user(user_id: UserId, _admin: Admin, services: ServicesDep) -> UserOut:
    """Lift a lockout after too many failed sign-ins (and forget those failures)."""
    row = await anyio.to_thread.run_sync(services.accounts.get, user_id)
    if row is None:
        raise NotFound("user not found")
    await anyio.to_thread.run_sync(services.accounts.clear_failed_logins, row["username"])
    return UserOut(**row)


def _drop_checkpoints(services: Services, student_id: str, thread_ids: list[str]) -> None:
    if services.tutor is not None:
        for thread_id in thread_ids:  # sharded, on the saver of the student's shard
            with services.tutor.graph_for(student_id, thread_id) as (_graph, saver):
                saver.delete_thread(thread_id)


@router.delete("/{user_id}", status_code=204, responses={404: {"description": "no such user"}})
async def delete_user(user_id: UserId, admin: Admin, services: ServicesDep) -> Response:
    """Delete a login and erase the learner's data (threads, checkpoints, results); not your own."""
    if user_id == admin.id:
        raise Invalid("you cannot delete your own account")
    found = await anyio.to_thread.run_sync(services.accounts.get, user_id)
    threads = await anyio.to_thread.run_sync(services.accounts.delete_user, user_id)
    services.access.forget_user(user_id)
    await anyio.to_thread.run_sync(_drop_checkpoints, services, (found or {}).get("student_id") or "", threads)
    return Response(status_code=204)

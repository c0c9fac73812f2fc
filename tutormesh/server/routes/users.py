"""User administration (admins only): list, create, change cohort or password, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from tutormesh.core.errors import Invalid
from tutormesh.server.deps import Admin, ServicesDep
from tutormesh.server.security import check_password_strength, hash_password

router = APIRouter(prefix="/v1/users", tags=["users"])
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
    """A user to create; a student gets a learner record of the same name."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    cohort: str | None = Field(default=None, max_length=80)


class UserChange(BaseModel):
    """Fields an admin may change."""

    model_config = ConfigDict(extra="forbid")
    cohort: str | None = Field(default=None, max_length=80)
    password: str | None = Field(default=None, min_length=8, max_length=256)


@router.get("")
async def list_users(_admin: Admin, services: ServicesDep, role: Role | None = None,
                     cohort: Annotated[str | None, Query(max_length=80)] = None) -> list[UserOut]:
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


@router.patch("/{user_id}", responses={404: {}})
async def change_user(user_id: UserId, body: UserChange, _admin: Admin, services: ServicesDep) -> UserOut:
    """Move a user to another cohort or set a new password."""
    fields: dict[str, Any] = body.model_dump(exclude_unset=True)
    if "password" in fields:
        if fields["password"] is None:
            raise Invalid("password: must not be null")
        fields["password_hash"] = await anyio.to_thread.run_sync(hash_password, fields.pop("password"))
    row = await anyio.to_thread.run_sync(lambda: services.accounts.update_user(user_id, **fields))
    services.access.forget_user(user_id)
    return UserOut(**row)


@router.delete("/{user_id}", status_code=204, responses={404: {}})
async def delete_user(user_id: UserId, admin: Admin, services: ServicesDep) -> Response:
    """Delete a login (the learner's data stays); admins cannot delete themselves."""
    if user_id == admin.id:
        raise Invalid("you cannot delete your own account")
    await anyio.to_thread.run_sync(services.accounts.delete_user, user_id)
    services.access.forget_user(user_id)
    return Response(status_code=204)

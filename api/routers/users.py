"""Accounts: a person's own (``/users/me``) and, for staff, everyone's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import AccountsDep, AdminUser, CurrentUser, ReadableUserId, StaffUser, UserIdPath
from tools.profile.schemas import (
    PLAIN_TEXT,
    AdminUserCreate,
    AdminUserUpdate,
    Role,
    UserList,
    UserRead,
    UserUpdateMe,
)

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me")
def read_me(user: CurrentUser) -> UserRead:
    return user


@router.patch("/me")
def update_me(body: UserUpdateMe, user: CurrentUser, accounts: AccountsDep) -> UserRead:
    # A new password ends every sign-in, this device's refresh token included (revoked in the
    # same transaction as the change); access tokens already issued lapse within their lifetime.
    return accounts.update_me(user.id, body)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
def delete_me(user: CurrentUser, accounts: AccountsDep) -> None:
    """Delete the account and its profile for good."""
    if user.role is Role.admin and accounts.count_active_admins() <= 1:
        raise HTTPException(status.HTTP_409_CONFLICT, "the last admin cannot delete their own account")
    accounts.delete_user(user.id)


@router.get("")
def list_users(
    _: StaffUser,
    accounts: AccountsDep,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    role: Role | None = None,
    email_contains: Annotated[str | None, Query(min_length=1, max_length=254, pattern=PLAIN_TEXT)] = None,
) -> UserList:
    return accounts.list_users(offset=offset, limit=limit, role=role, email_contains=email_contains)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: AdminUserCreate, _: AdminUser, accounts: AccountsDep) -> UserRead:
    return accounts.create_user(
        email=str(body.email),
        password=body.password,
        full_name=body.full_name,
        role=body.role,
        locale=body.locale,
    )


@router.get("/{user_id}")
def read_user(user_id: ReadableUserId, accounts: AccountsDep) -> UserRead:
    return accounts.get_user(user_id)


@router.patch("/{user_id}")
def update_user(
    user_id: UserIdPath, body: AdminUserUpdate, admin: AdminUser, accounts: AccountsDep
) -> UserRead:
    if user_id == admin.id and (body.role not in {None, Role.admin} or body.is_active is False):
        raise HTTPException(status.HTTP_409_CONFLICT, "an admin cannot demote or disable themself")
    # Disabling or changing the role ends the person's sign-ins in the same transaction.
    return accounts.update_user(user_id, body)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: UserIdPath, admin: AdminUser, accounts: AccountsDep) -> None:
    if user_id == admin.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "delete your own account through DELETE /users/me")
    accounts.delete_user(user_id)

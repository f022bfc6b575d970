"""Sign-up and the OAuth2 password flow with access + refresh tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.deps import AccountsDep, CurrentUser, SettingsDep, StoresDep, TokensDep
from api.tokens import InvalidToken, TokenPair
from storage.cache.base import or_when_down
from tools.profile.schemas import StrictModel, UserCreate, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])

#: Failed sign-ins allowed per account and client address in one window, to slow password guessing.
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_S = 15 * 60


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> TokenResponse:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            refresh_expires_in=pair.refresh_expires_in,
        )


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=16, max_length=4096)


@router.post("/signup", status_code=status.HTTP_201_CREATED)
def signup(body: UserCreate, accounts: AccountsDep, settings: SettingsDep) -> UserRead:
    """Create a ``user`` account; other roles are granted by an admin."""
    if not settings.auth.allow_signup:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "self-service sign-up is turned off; ask an admin")
    return accounts.create_user(
        email=str(body.email), password=body.password, full_name=body.full_name, locale=body.locale
    )


@router.post("/token")
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    accounts: AccountsDep,
    tokens: TokensDep,
    stores: StoresDep,
) -> TokenResponse:
    """OAuth2 password flow: ``username`` is the email."""
    if "\x00" in form.username or "\x00" in form.password:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong email or password", headers={"WWW-Authenticate": "Bearer"}
        )
    client = request.client.host if request.client else "unknown"
    throttle_key = f"login-failures:{form.username.strip().lower()}:{client}"
    # The throttle lives in the cache. While the cache is down sign-in stays open (logged),
    # unthrottled: password hashing still slows guessing, and locking everyone out is worse.
    cache = stores.cache
    failures = or_when_down(lambda: cache.get(throttle_key), None, "sign-in throttling")
    if failures is not None and int(failures) >= LOGIN_ATTEMPTS:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed sign-ins; try again in 15 minutes",
            headers={"Retry-After": str(LOGIN_WINDOW_S)},
        )
    user = accounts.authenticate(form.username, form.password)
    if user is None:
        or_when_down(lambda: cache.incr(throttle_key, 1, ttl_s=LOGIN_WINDOW_S), 0, "sign-in throttling")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong email or password", headers={"WWW-Authenticate": "Bearer"}
        )
    or_when_down(lambda: cache.delete(throttle_key), False, "sign-in throttling")
    return TokenResponse.of(tokens.issue(user.id, user.role))


@router.post("/refresh")
def refresh(body: RefreshRequest, tokens: TokensDep) -> TokenResponse:
    """Swap a refresh token for a new pair; each refresh token works once."""
    try:
        return TokenResponse.of(tokens.rotate(body.refresh_token))
    except InvalidToken as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: RefreshRequest, user: CurrentUser, tokens: TokensDep) -> None:
    """Sign out this device: its refresh token, and all rotated from the same sign-in, stop working."""
    try:
        tokens.revoke(body.refresh_token, user_id=user.id)
    except InvalidToken as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc

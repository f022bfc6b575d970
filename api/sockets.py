"""What every WebSocket endpoint does the same way: sign in with ``?token=`` or a first
``{"type": "auth", "token": ...}`` frame (which keeps the token out of URLs and server logs), close
with 4401 when that fails, and re-check the account before acting for it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException, WebSocket, WebSocketDisconnect, status
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import authenticate_until
from api.errors import outage
from api.tokens import TokenService
from tools.profile.schemas import UserRead
from tools.profile.service import AccountService

#: WebSocket close code for a missing or invalid token (4000-4999 are the application's).
WS_UNAUTHORIZED = 4401
#: RFC 6455's "Try Again Later": a store the sign-in needs is down; clients reconnect with backoff.
WS_TRY_AGAIN_LATER = 1013
AUTH_FRAME_TIMEOUT_S = 10.0


class AuthFrame(BaseModel):
    type: Literal["auth"]
    token: str = Field(max_length=8192)


async def receive_text(websocket: WebSocket) -> str:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        text = bytes(message.get("bytes") or b"").decode("utf-8", "replace")
    return str(text)


@dataclass
class SignedIn:
    """Who the socket speaks for, with the token that says so and when it stops saying so."""

    user: UserRead
    token: str
    expires_at: float
    tokens: TokenService
    accounts: AccountService

    async def recheck(self, token: str | None = None) -> None:
        """Re-validate (a disabled account or an expired token counts at once); raises HTTPException."""
        user, expires_at = await run_in_threadpool(
            authenticate_until, token or self.token, self.tokens, self.accounts
        )
        if user.id != self.user.id:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the new token is for another account")
        self.user, self.expires_at = user, expires_at
        if token:
            self.token = token


async def close_unauthorized(websocket: WebSocket, detail: object) -> None:
    # A close frame's reason is limited to 123 bytes.
    await websocket.close(WS_UNAUTHORIZED, str(detail).encode()[:120].decode("utf-8", "ignore"))


async def authenticate_socket(
    websocket: WebSocket, token: str | None, tokens: TokenService, accounts: AccountService
) -> SignedIn | None:
    """The signed-in user, or ``None`` once the socket is closed (4401, or 1013 when a store is down)."""
    if token is None:
        try:
            async with asyncio.timeout(AUTH_FRAME_TIMEOUT_S):
                text = await receive_text(websocket)
            token = AuthFrame.model_validate_json(text).token
        except (TimeoutError, ValidationError):
            await websocket.close(WS_UNAUTHORIZED, 'send {"type": "auth", "token": ...} first')
            return None
    try:
        user, expires_at = await run_in_threadpool(authenticate_until, token, tokens, accounts)
    except HTTPException as exc:
        await close_unauthorized(websocket, exc.detail)
        return None
    except Exception as exc:
        found = outage(exc)
        if found is None:
            raise
        await websocket.close(WS_TRY_AGAIN_LATER, found[1].encode()[:120].decode("utf-8", "ignore"))
        return None
    return SignedIn(user, token, expires_at, tokens, accounts)


def validation_summary(exc: ValidationError) -> str:
    parts = [f"{'.'.join(map(str, e['loc'])) or 'frame'}: {e['msg']}" for e in exc.errors()[:5]]
    return "invalid frame: " + "; ".join(parts)

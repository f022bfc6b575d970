"""JWT access and refresh tokens with rotation and reuse detection.

Access tokens are short-lived and stateless. Refresh tokens are recorded, so a
refresh rotates them (the old one stops working) and presenting an already
rotated token revokes its whole sign-in family: whoever stole it, and the owner,
must sign in again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import jwt
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.config import AuthSettings
from storage.sql import Database
from storage.sql.models import RefreshToken, User
from storage.sql.types import utcnow
from tools.profile.schemas import Role
from tools.profile.service import revoke_refresh_tokens

ISSUER = "innovation-kun"
TokenType = Literal["access", "refresh"]


class InvalidToken(Exception):
    """The token cannot be used; the message says why and is safe to return."""


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    role: Role
    jti: str
    #: Expiry as a Unix time, so a long-lived connection (a WebSocket) can end with its token.
    expires_at: float = 0.0


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


class TokenService:
    def __init__(self, settings: AuthSettings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._key = settings.secret_key.get_secret_value()

    def _encode(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm=self.settings.algorithm)

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        try:
            data = jwt.decode(
                token,
                self._key,
                algorithms=[self.settings.algorithm],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "jti", "type", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("token is invalid") from exc
        if data["type"] != expected:
            raise InvalidToken(f"expected a {expected} token, got a {data['type']} token")
        try:
            role = Role(data["role"])
        except ValueError as exc:
            raise InvalidToken("token has an unknown role") from exc
        return TokenClaims(
            subject=str(data["sub"]),
            role=role,
            expires_at=float(data["exp"]),
            jti=str(data["jti"]),
        )

    def issue(self, user_id: str, role: Role) -> TokenPair:
        """A new access + refresh pair starting a new sign-in family."""
        with self.db.session() as session:
            pair, _ = self._issue(session, user_id, role, str(uuid.uuid4()))
            return pair

    def _issue(self, session: Session, user_id: str, role: Role, family_id: str) -> tuple[TokenPair, str]:
        now = utcnow()
        access_ttl = timedelta(minutes=self.settings.access_token_minutes)
        refresh_ttl = timedelta(days=self.settings.refresh_token_days)
        refresh_jti = str(uuid.uuid4())
        base = {"iss": ISSUER, "sub": user_id, "role": role.value, "iat": now}
        access = self._encode({**base, "type": "access", "jti": str(uuid.uuid4()), "exp": now + access_ttl})
        refresh = self._encode(
            {**base, "type": "refresh", "jti": refresh_jti, "fam": family_id, "exp": now + refresh_ttl}
        )
        session.add(
            RefreshToken(
                jti=refresh_jti,
                user_id=user_id,
                family_id=family_id,
                issued_at=now,
                expires_at=now + refresh_ttl,
            )
        )
        pair = TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(access_ttl.total_seconds()),
            refresh_expires_in=int(refresh_ttl.total_seconds()),
        )
        return pair, refresh_jti

    def rotate(self, refresh_token: str) -> TokenPair:
        """Swap a refresh token for a new pair in one transaction; reuse revokes the family.

        The user row is locked first (as a password change does), so a refresh and a
        password change cannot interleave; the token is then spent with a conditional
        UPDATE, which lets exactly one of two concurrent refreshes win on any backend
        (SQLite ignores row locks, so the lock alone would not do).
        """
        claims = self.decode(refresh_token, "refresh")
        with self.db.session() as session:
            user = session.get(User, claims.subject, with_for_update=True)
            row = session.get(RefreshToken, claims.jti)
            if row is None or user is None or row.user_id != user.id:
                raise InvalidToken("refresh token is not recognised")
            if row.expires_at <= utcnow():
                raise InvalidToken("refresh token has expired")
            if not user.is_active:
                raise InvalidToken("account is disabled")
            spent = session.execute(
                update(RefreshToken)
                .where(RefreshToken.jti == row.jti, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            if spent.rowcount != 1:  # type: ignore[attr-defined]
                # Someone used a token that was already rotated or revoked: assume theft.
                revoke_refresh_tokens(session, RefreshToken.family_id == row.family_id)
                session.commit()
                raise InvalidToken("refresh token was already used; please sign in again")
            pair, new_jti = self._issue(session, user.id, Role(user.role), row.family_id)
            session.execute(
                update(RefreshToken).where(RefreshToken.jti == row.jti).values(replaced_by=new_jti)
            )
            return pair

    def revoke(self, refresh_token: str, *, user_id: str) -> None:
        """Sign out: the refresh token's whole family stops working."""
        claims = self.decode(refresh_token, "refresh")
        if claims.subject != user_id:
            raise InvalidToken("refresh token belongs to another account")
        with self.db.session() as session:
            row = session.get(RefreshToken, claims.jti)
            if row is not None:
                revoke_refresh_tokens(session, RefreshToken.family_id == row.family_id)

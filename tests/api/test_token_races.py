"""Refresh-token rotation under concurrency, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import threading

import pytest

from api.tokens import InvalidToken, TokenService
from core.config import Settings
from storage.sql import Database
from tools.profile.schemas import Role, UserUpdateMe
from tools.profile.service import AccountService


def test_one_refresh_token_rotates_exactly_once_under_concurrency(
    database: Database, sql_settings: Settings
) -> None:
    accounts = AccountService(database)
    user = accounts.create_user(email="race@example.com", password="password-1")
    tokens = TokenService(sql_settings.auth, database)
    pair = tokens.issue(user.id, Role.user)
    start = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def refresh() -> None:
        start.wait()
        try:
            tokens.rotate(pair.refresh_token)
            result = "ok"
        except InvalidToken:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok"] + ["refused"] * 5


def test_a_password_change_ends_every_sign_in(database: Database, sql_settings: Settings) -> None:
    accounts = AccountService(database)
    user = accounts.create_user(email="pw@example.com", password="password-1")
    tokens = TokenService(sql_settings.auth, database)
    phone, laptop = tokens.issue(user.id, Role.user), tokens.issue(user.id, Role.user)
    rotated = tokens.rotate(laptop.refresh_token)
    accounts.update_me(user.id, UserUpdateMe(current_password="password-1", new_password="password-2"))
    for pair in (phone, rotated):
        with pytest.raises(InvalidToken):
            tokens.rotate(pair.refresh_token)

"""Shared steps of the chat page's browser tests."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import LiveServer, WebUser, sign_in

#: A search the template replies answer with catalogue cards (tests/agent/test_shopping.py).
PRODUCT_SEARCH = "I am looking for a navy blue shirt"
PRODUCT_SEARCH_ZH = "有没有藏青色的衬衫"
SESSION_URL = re.compile(r"#/chat/[0-9a-f-]{36}$")


def open_chat(page: Page, user: WebUser, path: str = "/") -> None:
    """Signed in, on the chat page, with the socket connected (the composer can send)."""
    sign_in(page, user, path=path)
    expect(page.get_by_test_id("chat-page")).to_be_visible()
    page.wait_for_function("() => window.__ikChatSocket && window.__ikChatSocket.readyState === 1")


def send(page: Page, text: str) -> None:
    box = page.get_by_test_id("composer-input")
    box.fill(text)
    box.press("Enter")


def replies(page: Page) -> Locator:
    return page.get_by_test_id("message-assistant")


def wait_turn_done(page: Page, replies_before: int = 0) -> Locator:
    """The newest finished reply, once the turn is over (nothing streaming or in flight)."""
    expect(replies(page)).to_have_count(replies_before + 1)
    expect(page.get_by_test_id("message-streaming")).to_have_count(0)
    expect(page.locator("[data-state=sending]")).to_have_count(0)
    return replies(page).nth(replies_before)


def session_of(page: Page) -> str:
    """The open session's id, from the URL (#/chat/<id>)."""
    expect(page).to_have_url(SESSION_URL)
    return page.url.rsplit("/", 1)[1]


def history(server: LiveServer, user: WebUser, session_id: str) -> list[dict[str, Any]]:
    """The session as the server keeps it: each message's role, text and cards."""
    token = server.token(user.email)["access_token"]
    response = server.api("GET", f"chat/sessions/{session_id}", token)
    assert response.status_code == 200, response.text
    return [e["data"] for e in response.json()["history"] if e["event"] == "message"]

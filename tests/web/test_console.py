"""The support console and the admin view in a real browser: support follows a live conversation with
its tool calls, takes it over, answers the person (who sees it on their chat page), keeps a note and
hands the conversation back; an admin reads the service's figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.api.test_wardrobe import photo
from tests.web.conftest import LiveServer, WebUser, screenshot, sign_in

pytestmark = pytest.mark.timeout(300)

ASK = "show me red t-shirts"
REPLY = "Hi Grace, Mia from support here. The Ferrari Tee runs small: take one size up."
NOTE = "Prefers loose fits; follow up about the tee on Monday."


def chat_turn(
    live_server: LiveServer, user: WebUser, text: str, session_id: str | None = None
) -> dict[str, Any]:
    token = live_server.token(user.email)["access_token"]
    response = live_server.api("POST", "chat", token, json={"message": text, "session_id": session_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def staff_get(live_server: LiveServer, staff: WebUser, path: str) -> Any:
    response = live_server.api("GET", path, live_server.token(staff.email)["access_token"])
    assert response.status_code == 200, response.text
    return response.json()


def no_horizontal_scroll(page: Page) -> None:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


def test_support_takes_over_answers_notes_and_hands_back(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    person = make_user(full_name="Grace Hopper")
    token = live_server.token(person.email)["access_token"]
    profile = {
        "measurements": {"height": {"value": 168, "unit": "cm"}, "weight": {"value": 130, "unit": "lb"}},
        "preferred_units": {"length": "cm", "weight": "lb"},
    }
    assert live_server.api("PATCH", "users/me/profile", token, json=profile).status_code == 200
    tee = live_server.api(
        "POST", "wardrobe/items", token, files={"photo": ("tee.jpg", photo("Tshirts", 5), "image/jpeg")}
    )
    assert tee.status_code == 201, tee.text
    session_id = chat_turn(live_server, person, ASK)["session_id"]
    staff = make_user("support")

    console = new_context().new_page()
    sign_in(console, staff, path="/#/console")
    row = console.locator(f'[data-testid="session-row"][data-session-id="{session_id}"]')
    expect(row).to_contain_text("Grace Hopper")
    expect(row).to_contain_text(person.email)
    expect(row.get_by_test_id("session-row-title")).to_have_text(ASK)
    expect(row.get_by_test_id("badge-waiting")).to_have_count(0)
    row.click()
    expect(console).to_have_url(f"{live_server.url}/#/console/{session_id}")
    expect(console.get_by_test_id("stream-state")).to_have_attribute("data-state", "live")
    expect(console.get_by_test_id("transcript-user").first).to_contain_text(ASK)
    answer = console.get_by_test_id("transcript-assistant").first
    tools = answer.get_by_test_id("tool-calls")
    expect(tools).to_be_visible()
    tools.locator("summary").click()
    expect(tools.get_by_test_id("tool-call").first).to_be_visible()
    expect(tools.get_by_test_id("tool-name").first).not_to_be_empty()
    expect(console.get_by_test_id("person-email")).to_contain_text(person.email)
    facts = console.get_by_test_id("profile-facts")
    expect(facts).to_contain_text("168 cm")
    expect(facts).to_contain_text("lb")  # shown in the person's own unit beside the stored kg
    # The thumbnail comes through the support photo route (the wardrobe route serves only the owner).
    expect(console.locator('img[data-testid="wardrobe-thumb"]')).to_have_count(1)
    expect(console.get_by_test_id("notes-empty")).to_be_visible()
    expect(console.get_by_test_id("reply-input")).to_be_disabled()

    # The person has their conversation open while support takes it.
    chat = new_context().new_page()
    sign_in(chat, person, path=f"/#/chat/{session_id}")
    expect(chat.get_by_test_id("message-user").first).to_contain_text(ASK)

    console.get_by_test_id("take-over").click()
    expect(console.get_by_test_id("control-state")).to_contain_text("You have this conversation")
    expect(row.get_by_test_id("badge-taken")).to_have_text("With you")
    console.get_by_test_id("reply-input").fill(REPLY)
    console.get_by_test_id("reply-send").click()
    expect(console.get_by_test_id("transcript-support")).to_contain_text(REPLY)
    expect(console.get_by_test_id("reply-input")).to_have_value("")
    expect(chat.get_by_test_id("message-support")).to_contain_text(REPLY)

    # What the person says now reaches the console live, and the assistant stays quiet.
    chat_turn(live_server, person, "Thanks! Does it come in XL?", session_id)
    expect(console.get_by_test_id("transcript-user").last).to_contain_text("Does it come in XL?")

    console.get_by_test_id("note-input").fill(NOTE)
    console.get_by_test_id("note-add").click()
    expect(console.get_by_test_id("note-text")).to_have_text(NOTE)
    screenshot(console, "console-takeover")
    console.reload()
    expect(console.get_by_test_id("note-text")).to_have_text(NOTE)
    assert [
        (n["text"], n["author_email"])
        for n in staff_get(live_server, staff, f"support/sessions/{session_id}/notes")
    ] == [(NOTE, staff.email)]
    expect(chat.get_by_text(NOTE)).to_have_count(0)  # internal: the person never sees it

    console.get_by_test_id("answer-waiting").uncheck()
    console.get_by_test_id("hand-back").click()
    expect(console.get_by_test_id("control-state")).to_contain_text("The assistant is answering")
    expect(console.get_by_test_id("take-over")).to_be_visible()
    detail = staff_get(live_server, staff, f"support/sessions/{session_id}")
    assert (detail["handoff"], detail["staff_id"]) == (False, None)
    roles = [e["data"]["role"] for e in detail["history"] if e["event"] == "message"]
    assert roles[:4] == ["user", "assistant", "support", "user"]
    assert roles[-1] == "assistant"  # the hand-back notice, not an answer to the waiting message


def test_a_waiting_person_is_flagged_and_a_bad_reply_shows_the_reason(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    person = make_user()
    session_id = chat_turn(live_server, person, "I want to talk to a real person")["session_id"]
    staff = make_user("support")
    console = new_context(locale="zh-CN").new_page()
    sign_in(console, staff, path="/#/console")
    console.get_by_test_id("waiting-only").check()
    row = console.locator(f'[data-testid="session-row"][data-session-id="{session_id}"]')
    expect(row.get_by_test_id("badge-waiting")).to_have_text("等待中")
    row.click()
    expect(console.get_by_test_id("control-state")).to_contain_text("用户请求人工客服")

    # Another staff member hands it back meanwhile; replying now is refused with the API's reason.
    other = make_user("support")
    token = live_server.token(other.email)["access_token"]
    assert (
        live_server.api(
            "POST", f"support/sessions/{session_id}/handback", token, json={"answer_waiting": False}
        ).status_code
        == 200
    )
    console.get_by_test_id("reply-input").fill("你好，我是客服")
    console.get_by_test_id("reply-send").click()
    expect(console.get_by_test_id("control-error")).to_contain_text("take the conversation over")
    expect(console.get_by_test_id("reply-input")).to_have_value("你好，我是客服")  # nothing typed is lost


def test_on_a_phone_the_list_comes_first_then_the_conversation(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    person = make_user(full_name="Phone Person")
    session_id = chat_turn(live_server, person, ASK)["session_id"]
    staff = make_user("support")
    phone = new_context(phone=True).new_page()
    sign_in(phone, staff, path="/#/console")
    expect(phone.get_by_test_id("console-pick")).to_be_hidden()
    phone.locator(f'[data-testid="session-row"][data-session-id="{session_id}"]').click()
    expect(phone.get_by_test_id("console-list")).to_be_hidden()
    expect(phone.get_by_test_id("transcript-user").first).to_contain_text(ASK)
    no_horizontal_scroll(phone)
    screenshot(phone, "console-phone")
    phone.get_by_test_id("console-back").click()
    expect(phone.get_by_test_id("console-list")).to_be_visible()


def test_an_admin_reads_real_figures(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    admin = make_user("admin")
    token = live_server.token(admin.email)["access_token"]
    for _ in range(3):
        assert live_server.api("GET", "catalog/products/1529", token).status_code in (200, 404)
    page = new_context().new_page()
    sign_in(page, admin, path="/#/admin")
    row = page.locator(
        '[data-testid="route-row"][data-method="GET"][data-route="/api/v1/catalog/products/{product_id}"]'
    )
    expect(row).to_be_visible()
    assert int(row.get_by_test_id("route-count").inner_text()) >= 3
    expect(row.get_by_test_id("route-p50")).not_to_have_text("—")
    admins = page.locator('[data-testid="account-row"][data-role="admin"]').get_by_test_id("account-active")
    assert int(admins.inner_text()) >= 2
    assert int(page.get_by_test_id("tile-requests-value").inner_text()) > 0
    assert int(page.get_by_test_id("tile-products-value").inner_text()) >= 300
    expect(page.get_by_test_id("raw-metrics")).to_have_attribute("href", "/metrics")
    screenshot(page, "admin-metrics")

    phone = new_context(phone=True).new_page()
    sign_in(phone, admin, path="/#/admin")
    expect(phone.get_by_test_id("routes-table")).to_be_visible()
    no_horizontal_scroll(phone)  # the wide table scrolls inside its card, not the page


def test_support_cannot_open_the_admin_view(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser]
) -> None:
    page = new_context().new_page()
    sign_in(page, make_user("support"), path="/#/admin")
    expect(page.get_by_test_id("nav-admin")).to_have_count(0)
    expect(page.get_by_test_id("admin-page")).to_have_count(0)

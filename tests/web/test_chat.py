"""The chat page in a real browser against the real API (template replies, embedded stack):
streamed replies with catalogue cards, Chinese, photos and try-on, a dropped network, a second
tab, an expired sign-in, support handoff, and a phone-sized screen."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from playwright.sync_api import BrowserContext, FilePayload, Page, expect
from skimage import data as skdata

from tests.web.chat_helpers import (
    PRODUCT_SEARCH,
    PRODUCT_SEARCH_ZH,
    history,
    open_chat,
    replies,
    send,
    session_of,
    wait_turn_done,
)
from tests.web.conftest import REPO, LiveServer, WebUser, screenshot, sign_in
from tools.wardrobe.images import encode_jpeg

GARMENT_PHOTO = REPO / "data" / "catalog" / "thumbnails" / "1529.jpg"
RED_TEE = "1529"
PRICE = re.compile(r"^¥\d+(\.\d\d)?$")
#: The microphone badge of a spoken message: its duration.
SECONDS = re.compile(r"^\s*\d+\.\d s$")


def test_a_turn_streams_with_product_cards(
    page: Page, make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    user = make_user()
    open_chat(page, user)
    expect(page.get_by_test_id("chat-empty")).to_be_visible()
    # Shift+Enter is a new line, not a send; what is typed survives a reload.
    box = page.get_by_test_id("composer-input")
    box.fill("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    expect(box).to_have_value("line one\nline two")
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("composer-input")).to_have_value("line one\nline two")
    page.wait_for_function("() => window.__ikChatSocket && window.__ikChatSocket.readyState === 1")
    send(page, PRODUCT_SEARCH)
    # The person's message is on screen at once, before any reply.
    expect(page.get_by_test_id("message-user")).to_have_text(f"You{PRODUCT_SEARCH}")
    reply = wait_turn_done(page)
    expect(reply.get_by_test_id("message-text")).to_contain_text("CNY")
    cards = reply.get_by_test_id("product-card")
    expect(cards.first).to_be_visible()
    expect(cards.first.get_by_test_id("product-card-title")).not_to_be_empty()
    expect(cards.first.get_by_test_id("product-card-price")).to_have_text(PRICE)
    # These catalogue products have no photo: the API's stand-in picture becomes a slim strip.
    expect(cards.first.get_by_test_id("product-card-no-photo")).to_have_text("No photo of this product")
    # The new session's id went into the URL, and the list of conversations shows it.
    session_id = session_of(page)
    listed = page.locator(f"[data-testid=session-item][data-session-id='{session_id}']")
    expect(listed.get_by_test_id("session-title")).to_have_text(PRODUCT_SEARCH)  # named by its first message
    # The benchmark's timings: one turn, with its first token and its end.
    turns = page.evaluate("window.__ikTurns")
    assert len(turns) == 1
    assert isinstance(turns[0]["first_token_ms"], (int, float))
    assert turns[0]["first_token_ms"] > 0
    assert turns[0]["done_ms"] >= turns[0]["first_token_ms"]
    assert page.evaluate("performance.getEntriesByName('ik-turn-1-first-token').length") == 1
    # What the server kept is what the page shows.
    kept = history(live_server, user, session_id)
    assert [m["role"] for m in kept] == ["user", "assistant"]
    shown_titles = cards.get_by_test_id("product-card-title").all_inner_texts()
    assert shown_titles == [c["title"] for c in kept[1]["cards"] if c["kind"] == "product"]
    # Opening it again (a reload) shows the same conversation from the server.
    page.reload()
    expect(replies(page).first.get_by_test_id("product-card")).to_have_count(len(shown_titles))
    expect(page.get_by_test_id("composer-input")).to_have_value("")
    screenshot(page, "chat-desktop")


def test_a_chinese_turn_is_answered_in_chinese(page: Page, make_user: Callable[..., WebUser]) -> None:
    open_chat(page, make_user())
    page.get_by_test_id("locale-toggle").click()
    expect(page.get_by_test_id("send")).to_have_text("发送")
    send(page, PRODUCT_SEARCH_ZH)
    reply = wait_turn_done(page)
    expect(reply.get_by_test_id("message-text")).to_contain_text("找到")
    expect(reply.get_by_test_id("product-card").first).to_be_visible()
    expect(page.get_by_test_id("message-user")).to_contain_text("我")
    screenshot(page, "chat-chinese")


def _me_photo(folder: Path) -> Path:
    """A real photo of one person from the waist up (scikit-image's astronaut), as the try-on tests use."""
    path = folder / "me.jpg"
    astronaut: np.ndarray = skdata.astronaut()  # type: ignore[no-untyped-call]
    path.write_bytes(encode_jpeg(astronaut, quality=92))
    return path


def test_a_photo_is_previewed_sent_and_shown_and_a_non_photo_refused(
    page: Page, make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    user = make_user()
    open_chat(page, user)
    attach = page.get_by_test_id("attach-input")
    assert attach.get_attribute("accept") == "image/jpeg,image/png"
    # Not a photo: the API's reason is shown and nothing waits to be sent.
    not_a_photo: FilePayload = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some text"}
    attach.set_input_files(files=[not_a_photo])
    expect(page.get_by_test_id("upload-error")).to_contain_text("not a picture we can read")
    expect(page.get_by_test_id("attachment-preview")).to_have_count(0)
    # A photo: previewed, removable, then sent on its own (it goes into the wardrobe).
    attach.set_input_files(str(GARMENT_PHOTO))
    expect(page.get_by_test_id("attachment-preview")).to_have_attribute("data-ready", "yes")
    expect(page.get_by_test_id("upload-error")).to_have_count(0)
    page.get_by_test_id("attachment-remove").click()
    expect(page.get_by_test_id("attachment-preview")).to_have_count(0)
    attach.set_input_files(str(GARMENT_PHOTO))
    expect(page.get_by_test_id("attachment-preview")).to_have_attribute("data-ready", "yes")
    page.get_by_test_id("send").click()
    sent = page.get_by_test_id("message-user")
    expect(sent.get_by_test_id("message-photo")).to_be_visible()
    assert sent.get_by_test_id("message-photo").evaluate("img => img.naturalWidth") > 0
    expect(page.get_by_test_id("attachment-preview")).to_have_count(0)
    reply = wait_turn_done(page)
    expect(reply.get_by_test_id("message-text")).not_to_be_empty()
    token = live_server.token(user.email)["access_token"]
    items = live_server.api("GET", "wardrobe/items", token).json()
    assert len(items["items"] if isinstance(items, dict) else items) == 1
    kept = history(live_server, user, session_of(page))
    assert len(kept[0]["attachments"]) == 1
    # After a reload the photo comes back from the server (GET /uploads/{id}), not from the file.
    page.reload()
    again = page.get_by_test_id("message-user").locator("img[data-testid=message-photo]")
    expect(again).to_be_visible()
    assert again.evaluate("img => img.src").startswith("blob:")
    assert again.evaluate("img => img.naturalWidth") > 0


def test_a_try_on_from_the_chat_shows_progress_then_the_picture(
    page: Page, make_user: Callable[..., WebUser], live_server: LiveServer, tmp_path: Path
) -> None:
    user = make_user()
    open_chat(page, user)
    page.get_by_test_id("attach-input").set_input_files(str(_me_photo(tmp_path)))
    expect(page.get_by_test_id("attachment-preview")).to_have_attribute("data-ready", "yes")
    send(page, f"try product {RED_TEE} on me")
    reply = wait_turn_done(page)
    expect(reply.get_by_test_id("message-text")).to_contain_text("Putting Ferrari Tee on your photo now")
    job = reply.get_by_test_id("job-card")
    expect(job).to_be_visible()
    expect(job).to_have_attribute("data-status", "succeeded", timeout=90_000)
    expect(job.locator("img[data-testid=job-result]")).to_be_visible()
    assert job.locator("img[data-testid=job-result]").evaluate("img => img.naturalWidth") == 512
    token = live_server.token(user.email)["access_token"]
    [stored] = live_server.api("GET", "tryon/jobs", token).json()
    assert (stored["status"], stored["garment"]["product_id"]) == ("succeeded", RED_TEE)
    screenshot(page, "chat-tryon")


def test_offline_the_banner_shows_and_a_message_typed_meanwhile_is_sent_on_reconnect(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    user = make_user()
    context = new_context()
    page = context.new_page()
    open_chat(page, user)
    send(page, "hello")
    wait_turn_done(page)
    session_id = session_of(page)
    context.set_offline(True)
    page.evaluate("window.__ikChatSocket.close()")  # the network drop, as the page sees it
    expect(page.get_by_test_id("reconnecting")).to_be_visible()
    send(page, "What size should I order?")
    queued = page.get_by_test_id("message-user").nth(1)
    expect(queued).to_have_attribute("data-state", "queued")
    expect(queued.get_by_test_id("message-queued")).to_be_visible()
    # Nothing typed is lost: the unsent message is kept where the sign-in page looks.
    assert page.evaluate("localStorage.getItem('ik.draft')") == "What size should I order?"
    context.set_offline(False)
    expect(page.get_by_test_id("reconnecting")).to_have_count(0)
    reply = wait_turn_done(page, replies_before=1)
    expect(reply.get_by_test_id("message-text")).to_contain_text("height and weight")
    expect(queued).to_have_attribute("data-state", "ok")
    assert page.evaluate("localStorage.getItem('ik.draft')") is None
    kept = [m["text"] for m in history(live_server, user, session_id) if m["role"] == "user"]
    assert kept == ["hello", "What size should I order?"]


def test_a_drop_mid_turn_shows_the_reply_finished_meanwhile_and_a_lost_message_gets_retry(
    page: Page, make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    """The socket is routed through the test: it can cut the page off right after a turn started
    (the server finishes it anyway), or lose a message on the way and then drop."""
    from playwright.sync_api import WebSocketRoute

    mode = {"cut_after_session": False, "lose_message": False}
    connections: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        connections.append(ws)
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if mode["lose_message"] and '"type":"message"' in str(message):
                mode["lose_message"] = False
                ws.close(code=1006, reason="network lost")
                return
            server.send(message)

        def to_page(message: str | bytes) -> None:
            ws.send(message)
            if mode["cut_after_session"] and '"event": "session"' in str(message).replace('":"', '": "'):
                mode["cut_after_session"] = False
                ws.close(code=1006, reason="network lost")

        ws.on_message(to_server)
        server.on_message(to_page)

    page.route_web_socket("**/api/v1/chat/ws", route)
    user = make_user()
    open_chat(page, user)
    send(page, "hello")
    wait_turn_done(page)
    session_id = session_of(page)

    # Cut right after the turn began: no token, no done reached the page.
    mode["cut_after_session"] = True
    send(page, PRODUCT_SEARCH)
    reply = wait_turn_done(page, replies_before=1)  # from the history reloaded after reconnecting
    expect(reply.get_by_test_id("product-card").first).to_be_visible()
    expect(page.get_by_test_id("retry")).to_have_count(0)
    expect(page.get_by_test_id("reconnecting")).to_have_count(0)
    assert not mode["cut_after_session"]
    assert len(connections) == 2  # it was cut, and reconnected

    # Lost on the way: the server never got it, so it waits with a Retry button.
    mode["lose_message"] = True
    send(page, "What size should I order?")
    failed = page.get_by_test_id("message-user").nth(2)
    expect(failed).to_have_attribute("data-state", "failed")
    expect(page.get_by_test_id("chat-page")).to_have_attribute("data-watching", session_id)
    assert [m["text"] for m in history(live_server, user, session_id) if m["role"] == "user"] == [
        "hello",
        PRODUCT_SEARCH,
    ]
    assert not mode["lose_message"]
    assert len(connections) == 3
    failed.get_by_test_id("retry").click()
    answer = wait_turn_done(page, replies_before=2)
    expect(answer.get_by_test_id("message-text")).to_contain_text("height and weight")
    expect(page.get_by_test_id("retry")).to_have_count(0)
    kept = [m["text"] for m in history(live_server, user, session_id) if m["role"] == "user"]
    assert kept == ["hello", PRODUCT_SEARCH, "What size should I order?"]


def test_a_second_tab_follows_the_conversation(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser]
) -> None:
    context = new_context()
    first = context.new_page()
    open_chat(first, make_user())
    send(first, "hello")
    wait_turn_done(first)
    session_id = session_of(first)
    second = context.new_page()  # same browser profile: already signed in
    second.goto(f"/#/chat/{session_id}")
    expect(second.get_by_test_id("message-user")).to_have_count(1)
    expect(second.get_by_test_id("chat-page")).to_have_attribute("data-watching", session_id)
    send(first, PRODUCT_SEARCH)
    expect(second.get_by_test_id("message-user").nth(1)).to_have_text(f"You{PRODUCT_SEARCH}")
    reply = wait_turn_done(second, replies_before=1)
    expect(reply.get_by_test_id("product-card").first).to_be_visible()
    assert reply.get_by_test_id("product-card-title").all_inner_texts() == (
        wait_turn_done(first, replies_before=1).get_by_test_id("product-card-title").all_inner_texts()
    )
    # The turn was the first tab's: only its timings are recorded there.
    assert second.evaluate("window.__ikTurns ?? []") == []


def test_an_expired_sign_in_keeps_the_unsent_message(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser]
) -> None:
    user = make_user()
    context = new_context()
    page = context.new_page()
    open_chat(page, user)
    context.set_offline(True)
    page.evaluate("window.__ikChatSocket.close()")
    send(page, "What size should I order?")
    expect(page.get_by_test_id("message-user")).to_have_attribute("data-state", "queued")
    # Meanwhile the sign-in stopped working (both tokens refused by the server).
    page.evaluate(
        """localStorage.setItem('ik.tokens', JSON.stringify(
            {access_token: 'garbage', refresh_token: 'garbage', expires_at: Date.now() + 3600e3}))"""
    )
    context.set_offline(False)
    expect(page.get_by_test_id("signin-submit")).to_be_visible()
    expect(page.get_by_test_id("draft-kept")).to_be_visible()
    page.get_by_test_id("email").fill(user.email)
    page.get_by_test_id("password").fill(user.password)
    page.get_by_test_id("signin-submit").click()
    box = page.get_by_test_id("composer-input")
    expect(box).to_have_value("What size should I order?")
    box.press("Enter")
    reply = wait_turn_done(page)
    expect(reply.get_by_test_id("message-text")).to_contain_text("height and weight")
    expect(box).to_have_value("")
    assert page.evaluate("localStorage.getItem('ik.draft')") is None


def test_support_takes_over_and_replies_then_hands_back(
    page: Page, make_user: Callable[..., WebUser], live_server: LiveServer
) -> None:
    open_chat(page, make_user())
    send(page, "I want to talk to a real person")
    wait_turn_done(page)
    expect(page.get_by_test_id("handoff-banner")).to_be_visible()
    session_id = session_of(page)
    staff = live_server.token(make_user("support").email)["access_token"]
    answer = live_server.api(
        "POST", f"support/sessions/{session_id}/reply", staff, json={"text": "Hi, I'm Mia."}
    )
    assert answer.status_code == 200, answer.text
    support = page.get_by_test_id("message-support")
    expect(support).to_have_text("SupportHi, I'm Mia.")
    screenshot(page, "chat-handoff")
    back = live_server.api("POST", f"support/sessions/{session_id}/handback", staff, json={})
    assert back.status_code == 200, back.text
    expect(page.get_by_test_id("handoff-banner")).to_have_count(0)
    page.reload()  # what the server kept: support's reply is still support's
    expect(page.get_by_test_id("message-support")).to_have_text("SupportHi, I'm Mia.")


def test_on_a_phone_the_composer_stays_at_the_bottom_and_nothing_scrolls_sideways(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser]
) -> None:
    page = new_context(phone=True).new_page()
    open_chat(page, make_user())
    send(page, PRODUCT_SEARCH)
    reply = wait_turn_done(page)
    expect(reply.get_by_test_id("product-card").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    composer = page.get_by_test_id("composer").bounding_box()
    assert composer is not None
    assert abs(composer["y"] + composer["height"] - 844) <= 2, composer
    page.evaluate("window.scrollTo(0, 0)")  # a full-page picture starts from the top
    screenshot(page, "chat-phone")
    # The conversations are a drawer here.
    expect(page.get_by_test_id("sessions")).not_to_be_in_viewport()
    page.get_by_test_id("sessions-toggle").click()
    expect(page.get_by_test_id("session-item")).to_have_count(1)
    expect(page.get_by_test_id("sessions")).to_be_in_viewport(ratio=1)  # slid all the way in
    screenshot(page, "chat-phone-drawer")
    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("chat-empty")).to_be_visible()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#/chat")


def test_a_spoken_turn_from_another_device_shows_a_microphone_badge(
    page: Page,
    make_user: Callable[..., WebUser],
    live_server: LiveServer,
    flite: Callable[[str], bytes],
    new_context: Callable[..., BrowserContext],
) -> None:
    """A voice turn (real speech through the voice socket, as the phone app would send it) on the
    open session reaches the page through its `watch`, with the spoken duration; the support
    console's transcript shows it as spoken too."""
    import json

    from websockets.sync.client import connect

    from model_servers.speech.audio import decode

    question = "is the black jacket in stock"
    user = make_user()
    open_chat(page, user)
    send(page, "hello")
    wait_turn_done(page)
    session_id = session_of(page)
    expect(page.get_by_test_id("chat-page")).to_have_attribute("data-watching", session_id)
    token = live_server.token(user.email)["access_token"]
    pcm = decode(flite(question), max_seconds=30).pcm
    url = live_server.url.replace("http://", "ws://") + f"/api/v1/voice/ws?token={token}"
    with connect(url, max_size=None, open_timeout=60) as ws:

        def until(name: str) -> dict[str, object]:
            while True:
                raw = ws.recv(timeout=120)
                if isinstance(raw, str):
                    frame: dict[str, object] = json.loads(raw)
                    if frame["event"] == name:
                        return frame

        until("ready")
        config = {"type": "config", "mode": "push_to_talk", "session_id": session_id, "locale": "en"}
        ws.send(json.dumps(config))
        until("configured")
        ws.send(json.dumps({"type": "start"}))
        for start in range(0, len(pcm), 1600):
            ws.send(pcm[start : start + 1600].astype("<i2").tobytes())
        ws.send(json.dumps({"type": "end"}))
        until("done")
    spoken = page.get_by_test_id("message-user").nth(1)
    expect(spoken.get_by_test_id("message-text")).to_have_text(question)
    expect(spoken.get_by_test_id("voice-badge")).to_have_text(SECONDS)
    wait_turn_done(page, replies_before=1)
    page.reload()  # kept with the conversation
    expect(page.get_by_test_id("message-user").nth(1).get_by_test_id("voice-badge")).to_have_text(SECONDS)
    console = new_context().new_page()
    sign_in(console, make_user("support"), path=f"/#/console/{session_id}")
    heard = console.get_by_test_id("transcript-user").nth(1)
    expect(heard.get_by_test_id("transcript-text")).to_have_text(question)
    expect(heard.get_by_test_id("transcript-voice")).to_contain_text("recognised by pocketsphinx")

"""The shell every page shares: sign-in, the language switch, sign-out, a phone-sized screen."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.web.conftest import LiveServer, WebUser, screenshot, sign_in


def test_the_api_serves_the_built_app(live_server: LiveServer) -> None:
    import httpx

    index = httpx.get(f"{live_server.url}/")
    assert index.status_code == 200
    assert index.headers["cache-control"] == "no-cache"
    assert '<div id="root">' in index.text
    script = index.text.split('src="', 1)[1].split('"', 1)[0]
    asset = httpx.get(f"{live_server.url}{script}")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    assert httpx.get(f"{live_server.url}/assets/nothing.js").status_code == 404


def test_wrong_password_is_refused_with_the_reason(page: Page, make_user: Callable[..., WebUser]) -> None:
    user = make_user()
    page.goto("/")
    page.get_by_test_id("email").fill(user.email)
    page.get_by_test_id("password").fill("not-the-password")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("signin-error")).to_contain_text("wrong email or password")
    expect(page.get_by_test_id("sign-out")).to_have_count(0)


def test_sign_in_switch_language_and_sign_out(page: Page, make_user: Callable[..., WebUser]) -> None:
    user = make_user()
    sign_in(page, user)
    expect(page.get_by_test_id("nav-chat")).to_have_text("Chat")
    page.get_by_test_id("locale-toggle").click()
    expect(page.get_by_test_id("nav-chat")).to_have_text("聊天")
    page.reload()
    expect(page.get_by_test_id("nav-chat")).to_have_text("聊天")  # the choice is remembered
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("signin-submit")).to_be_visible()


def test_a_chinese_browser_starts_in_chinese(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context(locale="zh-CN").new_page()
    page.goto("/")
    expect(page.get_by_test_id("signin-submit")).to_have_text("登录")


def test_staff_see_the_console_and_people_do_not(
    new_context: Callable[..., BrowserContext], make_user: Callable[..., WebUser]
) -> None:
    person = new_context().new_page()
    sign_in(person, make_user())
    expect(person.get_by_test_id("nav-console")).to_have_count(0)
    expect(person.get_by_test_id("nav-admin")).to_have_count(0)
    staff = new_context(phone=True).new_page()
    sign_in(staff, make_user("support"))
    expect(staff.get_by_test_id("nav-console")).to_be_visible()
    expect(staff.get_by_test_id("nav-admin")).to_have_count(0)
    # the bar fits a phone: nothing wider than the screen
    width = staff.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(staff, "shell-phone-support")


def test_a_new_person_signs_up_in_chinese_and_lands_in_the_chat(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> None:
    page = new_context(locale="zh-CN").new_page()
    page.goto("/")
    page.get_by_role("button", name="还没有账号？注册").click()
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill("short")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("sign-out")).to_have_count(0)  # the form's own check: 8 characters
    page.get_by_test_id("password").fill("a-long-password")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("chat-page")).to_be_visible()
    expect(page.get_by_test_id("nav-chat")).to_have_text("聊天")
    token = live_server.token(email, "a-long-password")["access_token"]
    me = live_server.api("GET", "users/me", token).json()
    assert (me["email"], me["role"]) == (email, "user")
    assert live_server.api("GET", "users/me/profile", token).json()["locale"] == "zh"

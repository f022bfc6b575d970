"""Browser tests: Playwright drives Debian's Chromium (``/usr/bin/chromium``, headless, background
networking off) against the real API serving the built web app on a loopback port.

The server runs in this process (uvicorn on a thread), so tests can reach ``server.app.state`` to
seed data or read what a click left behind. The built app comes from ``web/dist`` (``make web``),
or from ``IK_TEST_WEB_DIST`` when set. Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright

from api.background import serving
from api.main import create_app
from evals.browser import CHROMIUM as DEBIAN_CHROMIUM
from evals.browser import launch_chromium
from tests.api.conftest import add_products_with_photos
from tests.conftest import TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD, TEST_WEBHOOK_SECRET, make_settings

REPO = Path(__file__).resolve().parents[2]
WEB_DIST = Path(os.environ.get("IK_TEST_WEB_DIST", REPO / "web" / "dist"))
CHROMIUM = os.environ.get("IK_TEST_CHROMIUM", DEBIAN_CHROMIUM)
ARTIFACTS = REPO / "test-artifacts" / "web"
PASSWORD = "password-123"
#: How long a browser expectation waits by default (a turn on 2 busy cores can take seconds).
EXPECT_TIMEOUT_MS = 20_000


@dataclass
class LiveServer:
    """The API on a real port, serving the built web app."""

    url: str
    app: FastAPI

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, f"{self.url}/api/v1/{path}", headers=headers, timeout=60, **kwargs)

    def token(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.api("POST", "auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@dataclass
class WebUser:
    id: str
    email: str
    role: str
    password: str = PASSWORD


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(f"the web app is not built at {WEB_DIST}: run `make web` (npm ci, npm run build)")
    settings = make_settings(
        tmp_path_factory.mktemp("web"),
        web_dist=WEB_DIST,
        catalog={"webhook_secret": TEST_WEBHOOK_SECRET, "load_on_start": True, "limit": 300},
    )
    app = create_app(settings)
    try:
        with serving(app) as url:
            add_products_with_photos(app)
            yield LiveServer(url, app)
    except (RuntimeError, TimeoutError) as exc:
        pytest.fail(f"the API did not start for the browser tests: {exc}")


@pytest.fixture(scope="session")
def admin_token(live_server: LiveServer) -> str:
    token: str = live_server.token(TEST_ADMIN_EMAIL, TEST_ADMIN_PASSWORD)["access_token"]
    return token


@pytest.fixture
def make_user(live_server: LiveServer, admin_token: str) -> Callable[..., WebUser]:
    """A new account per call (role ``user`` unless told), created through the admin API."""

    def make(role: str = "user", **fields: Any) -> WebUser:
        email = fields.pop("email", f"{role}-{uuid.uuid4().hex[:8]}@example.com")
        body = {"email": email, "password": PASSWORD, "role": role, **fields}
        response = live_server.api("POST", "users", admin_token, json=body)
        assert response.status_code == 201, response.text
        return WebUser(response.json()["id"], email, role)

    return make


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (make system-packages does)")
    with sync_playwright() as playwright:
        browser = launch_chromium(
            playwright.chromium,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            executable=CHROMIUM,
        )
        expect.set_options(timeout=EXPECT_TIMEOUT_MS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., BrowserContext]]:
    """Fresh browser profiles (own localStorage) for a test; ``phone=True`` gives a 390×844 screen;
    ``in_browser``: another Chromium than the shared one (a module's own launch flags)."""
    contexts: list[BrowserContext] = []

    def make(
        *, phone: bool = False, locale: str = "en-US", in_browser: Browser | None = None, **options: Any
    ) -> BrowserContext:
        viewport: ViewportSize = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 860}
        context = (in_browser or browser).new_context(
            base_url=live_server.url, viewport=viewport, locale=locale, **options
        )
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext], request: pytest.FixtureRequest) -> Iterator[Page]:
    page = new_context().new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        screenshot(page, f"FAILED-{request.node.name}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/web/" in item.nodeid:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/web/ (kept as a test artefact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, user: WebUser, *, path: str = "/") -> None:
    """Sign in through the page's form, as a person would."""
    page.goto(path)
    page.get_by_test_id("email").fill(user.email)
    page.get_by_test_id("password").fill(user.password)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("sign-out")).to_be_visible()


def clear_artifacts() -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)

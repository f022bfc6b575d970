"""Talking to the chat in a real Chromium: push-to-talk, hands-free, Chinese, and a blocked microphone.

Chromium plays a WAV file as its microphone (``--use-file-for-fake-audio-capture``, once, from the
moment the page opens the microphone). The speech is made here with the project's own flite
synthesiser, as ``python -m evals voice`` does, padded with silence so the capture is running before
the words start. Those are launch arguments, so this module launches its own browsers through the
session's Playwright.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from evals.browser import launch_chromium
from tests.web.conftest import CHROMIUM, LiveServer, WebUser, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]

SENTENCE = "show me a red shirt"
#: A word of SENTENCE the transcript must contain (PocketSphinx may miss a short word or two).
HEARD = "shirt"
LEAD_S = 1.0
TAIL_S = 2.0


@dataclass(frozen=True)
class Speech:
    path: Path
    seconds: float


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (Debian: apt-get install flite; `make system-packages`)")
    from evals.voice import synthesize
    from model_servers.speech.audio import to_wav
    from model_servers.speech.engine import SAMPLE_RATE

    words = synthesize(SENTENCE, "slt").pcm
    silence = np.zeros(int(SAMPLE_RATE * LEAD_S), np.int16)
    pcm = np.concatenate([silence, words, np.zeros(int(SAMPLE_RATE * TAIL_S), np.int16)])
    path = tmp_path_factory.mktemp("voice") / "show-me-a-red-shirt.wav"
    path.write_bytes(to_wav(pcm, SAMPLE_RATE))
    return Speech(path, len(pcm) / SAMPLE_RATE)


@pytest.fixture(scope="module")
def mic_browser(browser: Browser, speech: Speech) -> Iterator[Browser]:
    """A Chromium whose microphone says ``SENTENCE`` once (each page that opens it hears it anew)."""
    launched = launch_chromium(
        browser.browser_type,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech.path}%noloop",
        executable=CHROMIUM,
    )
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def asking_browser(browser: Browser) -> Iterator[Browser]:
    """A Chromium that asks before giving the microphone (no fake permission UI): nobody says yes."""
    launched = launch_chromium(
        browser.browser_type, "--use-fake-device-for-media-stream", executable=CHROMIUM
    )
    yield launched
    launched.close()


@pytest.fixture
def contexts(
    new_context: Callable[..., BrowserContext], live_server: LiveServer
) -> Callable[..., BrowserContext]:
    """Phone-sized contexts of one of this module's browsers, with the microphone granted unless told."""

    def make(browser: Browser, *, locale: str = "en-US", microphone: bool = True) -> BrowserContext:
        context = new_context(in_browser=browser, phone=True, locale=locale)
        context.set_default_timeout(30_000)
        if microphone:
            context.grant_permissions(["microphone"], origin=live_server.url)
        return context

    return make


def _hooks(page: Page) -> dict[str, Any]:
    hooks: dict[str, Any] = page.evaluate("() => ({...window.__ikVoice})")
    return hooks


def _only_session(live_server: LiveServer, user: WebUser) -> dict[str, Any]:
    token = live_server.token(user.email)["access_token"]
    sessions = live_server.api("GET", "chat/sessions", token).json()
    assert len(sessions) == 1, sessions
    detail = live_server.api("GET", f"chat/sessions/{sessions[0]['id']}", token)
    assert detail.status_code == 200, detail.text
    body: dict[str, Any] = detail.json()
    return body


def _hold_to_talk(page: Page, speech: Speech, *, keyboard: bool = False) -> None:
    """Hold the microphone button (or Space on it) while the fake microphone plays the sentence."""
    mic = page.get_by_test_id("voice-mic")
    expect(mic).to_be_enabled()
    if keyboard:
        mic.focus()
        page.keyboard.down("Space")
    else:
        mic.hover()
        page.mouse.down()
    expect(page.get_by_test_id("voice")).to_have_attribute("data-state", "listening")
    page.wait_for_timeout(speech.seconds * 1000)  # the length of the speech itself
    if keyboard:
        page.keyboard.up("Space")
    else:
        page.mouse.up()


def test_push_to_talk_is_heard_answered_spoken_and_kept(
    mic_browser: Browser,
    contexts: Callable[..., BrowserContext],
    make_user: Callable[..., WebUser],
    live_server: LiveServer,
    speech: Speech,
) -> None:
    user = make_user()
    page = contexts(mic_browser).new_page()
    sign_in(page, user)

    _hold_to_talk(page, speech)

    expect(page.get_by_test_id("voice-transcript")).to_contain_text(HEARD, timeout=60_000)
    page.wait_for_function("() => window.__ikVoice.audioFrames > 0", timeout=60_000)
    screenshot(page, "voice-push-to-talk")
    hooks = _hooks(page)
    assert any(HEARD in text for text in hooks["transcripts"]), hooks
    assert hooks["notices"] == [], hooks

    # The spoken turn is in the stored conversation, marked as voice, with the assistant's answer.
    detail = _only_session(live_server, user)
    said = [m["data"] for m in detail["history"] if m["data"]["role"] == "user"]
    assert said, detail
    assert HEARD in said[0]["text"]
    assert said[0]["voice"]["engine"] == "pocketsphinx"
    assert said[0]["voice"]["duration_s"] > 0.5
    assert [m for m in detail["history"] if m["data"]["role"] == "assistant"]
    # ... and the chat page, told of the new session and that the turn was done, shows it.
    expect(page.get_by_test_id("chat-page")).to_have_attribute("data-session-id", detail["id"])
    spoken = page.get_by_test_id("message-user").filter(has_text=said[0]["text"])
    expect(spoken.get_by_test_id("voice-badge")).to_be_visible()
    expect(page.get_by_test_id("message-assistant").first).to_be_visible()
    # Once the reply has been spoken the control is idle again.
    expect(page.get_by_test_id("voice")).to_have_attribute("data-state", "idle", timeout=60_000)


def test_hands_free_hears_an_utterance_without_a_press(
    mic_browser: Browser,
    contexts: Callable[..., BrowserContext],
    make_user: Callable[..., WebUser],
    live_server: LiveServer,
) -> None:
    user = make_user()
    page = contexts(mic_browser).new_page()
    sign_in(page, user)

    toggle = page.get_by_test_id("voice-hands-free")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("voice-transcript")).to_contain_text(HEARD, timeout=60_000)
    page.wait_for_function("() => window.__ikVoice.audioFrames > 0", timeout=60_000)
    screenshot(page, "voice-hands-free")
    # The reply is long enough to still be playing: the stop button silences it, listening goes on.
    voice = page.get_by_test_id("voice")
    expect(voice).to_have_attribute("data-state", "speaking")
    page.get_by_test_id("voice-stop").click()
    expect(voice).to_have_attribute("data-state", "listening")
    expect(page.get_by_test_id("voice-stop")).to_have_count(0)

    said = [m["data"] for m in _only_session(live_server, user)["history"] if m["data"]["role"] == "user"]
    assert HEARD in said[0]["text"]
    assert said[0]["voice"]["engine"] == "pocketsphinx"

    toggle.click()  # off again: the microphone is given back
    expect(toggle).to_have_attribute("aria-pressed", "false")


def test_chinese_speech_is_refused_honestly(
    mic_browser: Browser,
    contexts: Callable[..., BrowserContext],
    make_user: Callable[..., WebUser],
    live_server: LiveServer,
    speech: Speech,
) -> None:
    user = make_user()
    page = contexts(mic_browser, locale="zh-CN").new_page()
    sign_in(page, user)

    _hold_to_talk(page, speech, keyboard=True)

    notice = page.get_by_test_id("voice-notice")
    expect(notice).to_contain_text("只支持英语", timeout=60_000)
    page.wait_for_function("() => window.__ikVoice.notices.includes('language_unsupported')")
    assert _hooks(page)["transcripts"] == []
    page.wait_for_function("() => window.__ikVoice.audioFrames > 0")  # the notice is spoken too
    screenshot(page, "voice-chinese-unsupported")
    token = live_server.token(user.email)["access_token"]
    assert live_server.api("GET", "chat/sessions", token).json() == []  # nothing was sent as a turn


def test_a_blocked_microphone_says_so_and_typing_still_works(
    asking_browser: Browser,
    contexts: Callable[..., BrowserContext],
    make_user: Callable[..., WebUser],
    live_server: LiveServer,
) -> None:
    user = make_user()
    page = contexts(asking_browser, microphone=False).new_page()
    sign_in(page, user)

    mic = page.get_by_test_id("voice-mic")
    mic.hover()
    page.mouse.down()
    page.mouse.up()
    expect(page.get_by_test_id("voice-unavailable")).to_contain_text("Microphone access is blocked")
    expect(mic).to_be_disabled()
    expect(page.get_by_test_id("voice-hands-free")).to_be_disabled()
    screenshot(page, "voice-microphone-blocked")

    # The message sits over the composer on a phone: tapping the composer closes it, typing works.
    page.get_by_test_id("composer-input").click()
    expect(page.get_by_test_id("voice-status")).to_have_count(0)
    expect(mic).to_be_disabled()
    page.get_by_test_id("composer-input").fill("show me a red t-shirt")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message-assistant").first).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("message-user")).to_contain_text("show me a red t-shirt")
    detail = _only_session(live_server, user)
    said = [m["data"] for m in detail["history"] if m["data"]["role"] == "user"]
    assert said[0]["text"] == "show me a red t-shirt"
    assert not said[0].get("voice")


class _BrokenSpeech:
    """Speech engines that cannot start (as when espeak-ng is missing on a server)."""

    async def get(self) -> Any:
        from model_servers.speech.engine import SpeechError

        raise SpeechError("espeak-ng is not installed")

    def close(self) -> None:
        return None


@pytest.fixture
def broken_speech(live_server: LiveServer) -> Iterator[None]:
    state = live_server.app.state
    working = state.speech
    state.speech = _BrokenSpeech()
    yield
    state.speech = working


def test_voice_that_cannot_start_is_explained_and_switched_off(
    mic_browser: Browser,
    contexts: Callable[..., BrowserContext],
    make_user: Callable[..., WebUser],
    live_server: LiveServer,
    broken_speech: None,
) -> None:
    user = make_user()
    page = contexts(mic_browser).new_page()
    sign_in(page, user)

    mic = page.get_by_test_id("voice-mic")
    mic.hover()
    page.mouse.down()
    page.mouse.up()
    unavailable = page.get_by_test_id("voice-unavailable")
    expect(unavailable).to_contain_text("Voice chat is unavailable")
    expect(unavailable).to_contain_text("espeak-ng is not installed")
    expect(mic).to_be_disabled()
    expect(page.get_by_test_id("voice-hands-free")).to_be_disabled()
    assert _hooks(page)["state"] == "idle"


def test_a_refused_sign_in_is_renewed_once_and_the_utterance_still_goes_through(
    mic_browser: Browser,
    contexts: Callable[..., BrowserContext],
    make_user: Callable[..., WebUser],
    live_server: LiveServer,
    speech: Speech,
) -> None:
    user = make_user()
    page = contexts(mic_browser).new_page()
    sign_in(page, user)
    # An access token the server no longer accepts but that looks fresh (as after a key rotation):
    # the socket is closed with 4401, the page refreshes its sign-in and connects again.
    page.evaluate(
        """() => {
            const tokens = JSON.parse(localStorage.getItem("ik.tokens"));
            tokens.access_token = "not-a-token";
            localStorage.setItem("ik.tokens", JSON.stringify(tokens));
        }"""
    )

    _hold_to_talk(page, speech)

    expect(page.get_by_test_id("voice-transcript")).to_contain_text(HEARD, timeout=60_000)
    expect(page.get_by_test_id("voice-error")).to_have_count(0)
    stored = page.evaluate("() => JSON.parse(localStorage.getItem('ik.tokens')).access_token")
    assert stored != "not-a-token"
    said = [m["data"] for m in _only_session(live_server, user)["history"] if m["data"]["role"] == "user"]
    assert HEARD in said[0]["text"]

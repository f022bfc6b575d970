"""``python -m evals bench-web``: what the web app costs a person, measured in a real browser.

1. **Bundle**: the gzipped JavaScript the chat page downloads before it can be used (the entry
   script and its ``modulepreload`` chunks, gzip level 6 as a web server sends it), against the
   issue's limit of 250 kB; the lazily loaded pages (console, admin, wardrobe, profile) and the CSS
   are reported beside it.
2. **Time to first token in the page**: the API serving the built app on a loopback port (embedded
   stores, a catalogue slice), Debian's Chromium driven by Playwright signing in and typing
   dev-split utterances into the chat; the page records, per turn, the time from pressing Enter to
   the first streamed token painted and to the end of the turn (``window.__ikTurns``). With
   ``--llm embedded`` the replies are worded by SmolLM2 on the embedded llama.cpp server, so the
   first token waits for the model.
"""

from __future__ import annotations

import gzip
import re
import secrets
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from api.background import serving
from api.main import create_app
from core.config import REPO_ROOT
from evals.bench_agent import utterances
from evals.browser import CHROMIUM, launch_chromium
from evals.measure import machine, percentile
from evals.settings import embedded_settings

BUNDLE_LIMIT_KB = 250.0
WEB_DIST = REPO_ROOT / "web" / "dist"
#: Catalogue products loaded for the page test: enough for searches to find things, quick to load.
CATALOG_LIMIT = 2000
TURN_TIMEOUT_MS = 120_000

_SCRIPT = re.compile(r'<script[^>]+type="module"[^>]+src="([^"]+)"')
_PRELOAD = re.compile(r'<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"')
_STYLE = re.compile(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"')


def _gzip_kb(path: Path) -> float:
    return round(len(gzip.compress(path.read_bytes(), compresslevel=6)) / 1024, 1)


def bundle(dist: Path = WEB_DIST) -> dict[str, Any]:
    """Gzipped sizes of what the first page load fetches, and of everything else that was built."""
    index = (dist / "index.html").read_text()
    first = [*_SCRIPT.findall(index), *_PRELOAD.findall(index)]
    styles = _STYLE.findall(index)
    if not first:
        raise ValueError(f"no module script in {dist / 'index.html'}: is the app built?")
    initial = {url: _gzip_kb(dist / url.lstrip("/")) for url in first}
    lazy = {
        f"/assets/{p.name}": _gzip_kb(p)
        for p in sorted((dist / "assets").glob("*.js"))
        if f"/assets/{p.name}" not in initial
    }
    initial_kb = round(sum(initial.values()), 1)
    return {
        "initial_js_gzip_kb": initial_kb,
        "initial_js": initial,
        "initial_css_gzip_kb": round(sum(_gzip_kb(dist / u.lstrip("/")) for u in styles), 1),
        "lazy_js_gzip_kb": round(sum(lazy.values()), 1),
        "lazy_js": lazy,
        "limit_kb": BUNDLE_LIMIT_KB,
        "within_limit": initial_kb <= BUNDLE_LIMIT_KB,
    }


def _page_turns(url: str, email: str, password: str, texts: list[str], chromium: str) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright.chromium, executable=chromium)
        try:
            page = browser.new_context(base_url=url, viewport={"width": 390, "height": 844}).new_page()
            page.set_default_timeout(TURN_TIMEOUT_MS)
            page.goto("/")
            page.get_by_test_id("email").fill(email)
            page.get_by_test_id("password").fill(password)
            page.get_by_test_id("signin-submit").click()
            page.get_by_test_id("chat-page").wait_for()
            page.wait_for_function("() => window.__ikChatSocket && window.__ikChatSocket.readyState === 1")
            for number, text in enumerate(texts, start=1):
                box = page.get_by_test_id("composer-input")
                box.fill(text)
                box.press("Enter")
                page.wait_for_function(
                    "n => (window.__ikTurns || []).length >= n && window.__ikTurns[n - 1].done_ms !== null",
                    arg=number,
                )
            turns: list[dict[str, Any]] = page.evaluate("() => window.__ikTurns")
            return turns
        finally:
            browser.close()


def run(
    *, turns: int = 20, warmup: int = 3, llm: str = "none", chromium: str = CHROMIUM, seed: int = 0
) -> dict[str, Any]:
    result: dict[str, Any] = {"suite": "bench-web", "machine": machine(), "bundle": bundle()}
    llm_settings = {"provider": "embedded"} if llm == "embedded" else {"provider": "none"}
    with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        settings = embedded_settings(Path(scratch), llm=llm_settings, load_catalog=True)
        settings.catalog.limit = CATALOG_LIMIT
        settings.recommend.warm_on_start = False
        app = create_app(settings)
        started = time.perf_counter()
        with serving(app, start_timeout_s=600) as url:
            startup_s = round(time.perf_counter() - started, 2)
            email, password = f"bench-web-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
            app.state.accounts.create_user(email=email, password=password)
            texts = utterances(warmup + turns, seed=seed)
            timings = _page_turns(url, email, password, texts, chromium)
            sources = _reply_sources(url, email, password)
    if len(sources) == len(timings):  # one reply per turn: who wrote each is known
        for timing, (source, attempted) in zip(timings, sources, strict=True):
            timing["source"], timing["llm_attempted"] = source, attempted
    timings = timings[warmup:]
    first = [t["first_token_ms"] for t in timings if t["first_token_ms"] is not None]
    done = [t["done_ms"] for t in timings if t["done_ms"] is not None]
    asked = [t["first_token_ms"] for t in timings if t.get("llm_attempted") and t["first_token_ms"]]
    result["page"] = {
        "llm": llm,
        "catalog_products": CATALOG_LIMIT,
        "api_startup_s": startup_s,
        "turns": len(timings),
        "warmup_turns": warmup,
        "turns_without_tokens": len(timings) - len(first),
        "first_token_ms_p50": percentile(first, 50, digits=1),
        "first_token_ms_p95": percentile(first, 95, digits=1),
        "done_ms_p50": percentile(done, 50, digits=1),
        "done_ms_p95": percentile(done, 95, digits=1),
        "reply_sources": dict(Counter(str(t.get("source")) for t in timings)),
        # Turns whose reply the LLM was asked to word (its wording kept: source "llm"; withdrawn by
        # the fact check: the template), where the first token waits for the model.
        "llm_asked_turns": len(asked),
        "llm_asked_first_token_ms_p50": percentile(asked, 50, digits=1),
        "llm_asked_first_token_ms_p95": percentile(asked, 95, digits=1),
    }
    return result


def _reply_sources(url: str, email: str, password: str) -> list[tuple[str | None, bool]]:
    """Who wrote each reply of the page's conversation (``llm``, ``template``, ``guard``) and whether
    the LLM was asked, in order."""
    import httpx

    token = httpx.post(f"{url}/api/v1/auth/token", data={"username": email, "password": password}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    sessions = httpx.get(f"{url}/api/v1/chat/sessions", headers=headers).json()
    if len(sessions) != 1:
        return []
    detail = httpx.get(f"{url}/api/v1/chat/sessions/{sessions[0]['id']}", headers=headers, timeout=60).json()
    return [
        (e["data"].get("source"), bool(e["data"].get("llm_attempted")))
        for e in detail["history"]
        if e["data"].get("role") == "assistant"
    ]


def table(result: dict[str, Any]) -> str:
    b, p, m = result["bundle"], result["page"], result["machine"]
    writer = "SmolLM2" if p["llm"] == "embedded" else "templates"
    lines = [
        f"web app · {m['cpus_usable']} of {m['cpu_count']} CPUs usable · load {m['load_avg_1m']}",
        f"chat app first load: {b['initial_js_gzip_kb']} kB gzipped JS (limit {b['limit_kb']:.0f} kB: "
        f"{'PASS' if b['within_limit'] else 'FAIL'}), {b['initial_css_gzip_kb']} kB CSS; "
        f"pages loaded on demand: {b['lazy_js_gzip_kb']} kB",
        f"in the page ({p['turns']} turns, replies by {writer}): "
        f"first token p50 {p['first_token_ms_p50']} ms, p95 {p['first_token_ms_p95']} ms; "
        f"whole turn p50 {p['done_ms_p50']} ms, p95 {p['done_ms_p95']} ms; replies by {p['reply_sources']}",
    ]
    if p["llm_asked_turns"]:
        lines.append(
            f"turns SmolLM2 was asked to word ({p['llm_asked_turns']}): first token p50 "
            f"{p['llm_asked_first_token_ms_p50']} ms, p95 {p['llm_asked_first_token_ms_p95']} ms"
        )
    return "\n".join(lines)

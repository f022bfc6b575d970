"""Debian's Chromium, headless, as the web benchmark and the browser tests start it.

One place for the launch flags, so the benchmark measures the browser the tests check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserType

CHROMIUM = "/usr/bin/chromium"
#: No update checks or other background traffic (these machines are offline); no sandbox, because
#: CI runs as root, where Chromium's sandbox cannot start; /tmp instead of a small /dev/shm.
CHROMIUM_ARGS = ("--disable-background-networking", "--no-sandbox", "--disable-dev-shm-usage")


def launch_chromium(browser_type: BrowserType, *extra_args: str, executable: str = CHROMIUM) -> Browser:
    return browser_type.launch(executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, *extra_args])

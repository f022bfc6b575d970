"""Deadlines for fault tests: a request while a server is down must be answered, not hang, and the
API must recover within a bound once the server is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

#: The longest any request may take while a server is down.
DOWN_LIMIT_S = 10.0
#: How long the API gets to notice the server is back and catch up.
RECOVER_LIMIT_S = 90.0

T = TypeVar("T")


def bounded(call: Callable[[], T], limit_s: float = DOWN_LIMIT_S) -> tuple[T, float]:
    """Run ``call`` with a deadline (on a thread, so a hang fails the test instead of stalling it);
    returns its result and how long it took."""
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        result = pool.submit(call).result(timeout=limit_s + 5)
        took = time.monotonic() - started
    assert took < limit_s, f"took {took:.1f}s (limit {limit_s}s)"
    return result, took


def answered(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``call(*args, **kwargs)``, which must return within ``DOWN_LIMIT_S``."""
    return bounded(lambda: call(*args, **kwargs))[0]


def wait_for(what: str, check: Callable[[], bool], limit_s: float = RECOVER_LIMIT_S) -> float:
    """Seconds until ``check()`` holds; fails naming ``what`` past ``limit_s``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit_s:
            raise AssertionError(f"{what}: not within {limit_s}s")
        time.sleep(0.1)
    return time.monotonic() - started

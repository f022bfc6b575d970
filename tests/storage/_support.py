"""Helpers shared by the storage contract suites."""

from __future__ import annotations

import uuid


class FakeClock:
    """A monotonic clock that moves only when told, so TTL and lease tests never sleep."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unique(prefix: str) -> str:
    """A name no other test (or concurrent test run on a shared server) uses."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"

"""Bounded waits for integration tests: poll a predicate, fail with the last observation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["wait_for"]


def wait_for(probe: Callable[[], tuple[bool, Any]], timeout_s: float, what: str,
             interval_s: float = 0.5) -> Any:
    """Call ``probe`` until it returns ``(True, value)``; returns the value."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        ok, last = probe()
        if ok:
            return last
        time.sleep(interval_s)
    pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}; last seen: {last}")

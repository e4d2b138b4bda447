"""A requested shutdown ends the process within its deadline, with code 75 (issue #11 item 2:
SIGTERM did not stop a worker on a dead broker in 150 s)."""

from __future__ import annotations

import logging
import threading

import pytest

from app.runtime import fail_stop as module

pytestmark = pytest.mark.timeout(30)


def test_the_deadline_exits_with_its_code_once_it_expires(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    exits: list[int] = []
    fired = threading.Event()

    def fake_exit(code: int) -> None:
        exits.append(code)
        fired.set()

    monkeypatch.setattr(module.os, "_exit", fake_exit)
    with caplog.at_level(logging.CRITICAL):
        timer = module.arm_exit_deadline(0.05, "shutdown on SIGTERM")
        assert timer.daemon  # never keeps a finished process alive
        assert fired.wait(5)
        timer.join(5)
    assert exits == [module.SHUTDOWN_DEADLINE_EXIT_CODE] == [75]
    assert "shutdown on SIGTERM: not finished after 0s" in caplog.text


def test_a_cancelled_deadline_never_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(module.os, "_exit", exits.append)
    timer = module.arm_exit_deadline(0.2, "shutdown")
    timer.cancel()
    timer.join(5)
    assert exits == []

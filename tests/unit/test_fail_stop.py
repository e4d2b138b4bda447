"""fail_stop exits the process with its code after logging the failure (no commit path)."""

from __future__ import annotations

import logging

import pytest

from app.runtime import fail_stop as module


def test_fail_stop_logs_the_failure_and_exits_with_its_code(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    exits: list[int] = []

    def fake_exit(code: int) -> None:
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(module.os, "_exit", fake_exit)
    with caplog.at_level(logging.CRITICAL), pytest.raises(SystemExit):
        module.fail_stop("al", OSError("disk gone"))
    assert exits == [module.FAIL_STOP_EXIT_CODE]
    assert "agent al failed" in caplog.text and "disk gone" in caplog.text

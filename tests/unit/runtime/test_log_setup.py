"""Worker logging: one line per record, a traceback is one record, retry floods are capped
(issue #11 item 2: ~47,000 ERROR lines in 5 minutes, tracebacks one token per line)."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
import threading
from collections.abc import Iterator

import orjson
import pytest

from app.runtime.log_setup import (
    LogRateLimiter,
    OneLineHandler,
    StreamToLog,
    _thread_hook,
    _unraisable_hook,
)
from app.runtime.structured_log import log_event

pytestmark = pytest.mark.timeout(30)

RECORD = re.compile(r"^\[\d{4}-\d\d-\d\d [\d:,]+\] \[\d+\] \[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] "
                    r"\[[^\]]+\] ")


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_limiter_passes_a_burst_per_template_and_counts_the_rest() -> None:
    limiter = LogRateLimiter(burst=3, interval_s=10)
    key = ("aiokafka", "Unable connect to node with id %s: %s")
    passed = [limiter.admit(key, 0.1 * i) for i in range(10)]
    assert [p for p, _ in passed] == [True] * 3 + [False] * 7
    assert all(due == [] for _, due in passed)
    other = ("aiokafka.consumer.fetcher", "Failed fetch messages from %s: %s")
    assert limiter.admit(other, 1.0) == (True, [])  # templates are limited separately
    # the window ends: the next record passes and the 7 suppressed are reported once
    assert limiter.admit(key, 10.5) == (True, [(key, 7)])
    assert limiter.admit(key, 10.6) == (True, [])


def test_limiter_reports_counts_of_evicted_and_expired_keys_and_drains() -> None:
    limiter = LogRateLimiter(burst=1, interval_s=10, max_keys=2)
    a, b, c = ("x", "a"), ("x", "b"), ("x", "c")
    limiter.admit(a, 0)
    limiter.admit(a, 0)  # 1 suppressed
    limiter.admit(b, 0)
    limiter.admit(b, 0)
    limiter.admit(b, 0)  # 2 suppressed
    assert limiter.admit(c, 1) == (True, [(a, 1)])  # a evicted (oldest): its count reported
    assert limiter.expire(20) == [(b, 2)]
    limiter.admit(c, 21)
    limiter.admit(c, 21)
    assert limiter.drain() == [(c, 1)]
    assert limiter.drain() == []


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, _Clock]]:
    stream, clock = io.StringIO(), _Clock()
    handler = OneLineHandler(stream, limiter=LogRateLimiter(burst=5, interval_s=10), now=clock)
    logger = logging.getLogger("aiokafka.unit-test")
    own = logging.getLogger("app.unit-test")
    for log in (logger, own):
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        log.propagate = False
    yield logger, stream, clock
    for log in (logger, own):
        log.removeHandler(handler)
        log.propagate = True
        log.setLevel(logging.NOTSET)


def test_a_retry_flood_is_capped_and_summarised(
        captured: tuple[logging.Logger, io.StringIO, _Clock]) -> None:
    logger, stream, clock = captured
    for i in range(1000):
        clock.t = i * 0.01  # 1,000 errors in 10 s, then one more after the window
        logger.error("Unable connect to node with id %s: %s", 111, "refused")
    clock.t = 10.5
    logger.error("Unable connect to node with id %s: %s", 111, "refused")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 5 + 1 + 1
    assert all(RECORD.match(line) for line in lines)
    assert "suppressed 995 similar records" in lines[5] and "[WARNING]" in lines[5]
    assert "Unable connect to node with id %s" in lines[5]


def test_platform_event_lines_are_never_limited_and_stay_parseable(
        captured: tuple[logging.Logger, io.StringIO, _Clock]) -> None:
    _, stream, _ = captured
    own = logging.getLogger("app.unit-test")
    for partition in range(50):
        log_event(own, "al.prepared", partition=partition, resume_offset=0)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 50
    events = [orjson.loads(line[line.index("{"):]) for line in lines
              if '"event":"al.prepared"' in line]
    assert [e["partition"] for e in events] == list(range(50))


def test_a_traceback_is_one_record_on_one_line(
        captured: tuple[logging.Logger, io.StringIO, _Clock]) -> None:
    logger, stream, _ = captured
    try:
        raise KeyError("first\nsecond")
    except KeyError:
        logger.exception("fetch failed\nwith detail")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and RECORD.match(lines[0])
    assert "fetch failed\\nwith detail\\nTraceback (most recent call last):\\n" in lines[0]
    assert lines[0].endswith("KeyError: 'first\\nsecond'")


def _collecting() -> tuple[logging.Logger, list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger(f"unit.collect.{len(records)}.{id(records)}")
    logger.addHandler(Collect())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, records


async def test_text_written_in_one_loop_step_is_one_record() -> None:
    logger, records = _collecting()
    proxy = StreamToLog(logger, logging.WARNING)
    for token in ("Traceback (most recent call last):\n", "  File ", '"x.py"', ", line 1\n",
                  "KeyError", ": ", "'k'", "\n"):
        proxy.write(token)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert [r.getMessage() for r in records] == [
        "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'k'"]
    assert records[0].levelno == logging.WARNING


def test_text_written_outside_a_loop_is_one_record_after_flush_or_quiet() -> None:
    logger, records = _collecting()
    proxy = StreamToLog(logger, logging.INFO, quiet_s=0.05)
    proxy.write("a\n")
    proxy.write("b")
    proxy.flush()
    assert [r.getMessage() for r in records] == ["a\nb"]
    done = threading.Event()
    logger.addHandler(type("Signal", (logging.Handler,), {"emit": lambda self, r: done.set()})())
    proxy.write("c\n")
    proxy.write("d\n")
    assert done.wait(5)
    assert [r.getMessage() for r in records] == ["a\nb", "c\nd"]


def test_uncaught_thread_and_unraisable_exceptions_become_records_with_tracebacks() -> None:
    logger, records = _collecting()
    hook = _thread_hook(logger)

    def fail() -> None:
        raise RuntimeError("in a thread")

    previous = threading.excepthook
    threading.excepthook = hook
    try:
        worker = threading.Thread(target=fail, name="unit-thread")
        worker.start()
        worker.join(5)
    finally:
        threading.excepthook = previous
    assert len(records) == 1 and records[0].exc_info is not None
    assert "RuntimeError in thread unit-thread" in records[0].getMessage()
    assert records[0].levelno == logging.CRITICAL

    def cancelled() -> None:
        raise asyncio.CancelledError

    threading.excepthook = hook
    try:
        worker = threading.Thread(target=cancelled, name="service-thread")
        worker.start()
        worker.join(5)
    finally:
        threading.excepthook = previous
    assert len(records) == 2 and records[1].levelno == logging.WARNING  # shutdown noise
    assert records[1].getMessage() == "thread service-thread ended cancelled"
    del records[1]

    try:
        raise ValueError("ignored in __del__")
    except ValueError:
        exc_type, exc, tb = sys.exc_info()
    unraisable = type("U", (), {"exc_type": exc_type, "exc_value": exc, "exc_traceback": tb,
                                "err_msg": "Exception ignored in", "object": "obj"})()
    _unraisable_hook(logger)(unraisable)
    assert len(records) == 2 and records[1].exc_info is not None
    assert records[1].getMessage() == "Exception ignored in: 'obj'"

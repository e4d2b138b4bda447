"""The worker's logging: one line per record, and no flood from a retry loop.

Every record is one line, ``[time] [pid] [LEVEL] [logger] message``; newlines inside a message
or its traceback are written as the two characters ``\\n``, so a multi-line traceback is one
record that ``grep``, log shippers and the tests' line readers see whole. The platform's own
event lines (:func:`app.runtime.structured_log.log_event`) keep their JSON as the message, so
``line[line.index("{"):]`` still parses.

aiokafka and faust log one ERROR per retry while a broker is gone (tens of thousands a minute).
:class:`LogRateLimiter` lets the first ``burst`` records per ``(logger, message template)`` and
``interval_s`` through, counts the rest, and reports them as one ``suppressed K similar`` line
when their window ends. The platform's own INFO/DEBUG records (loggers under ``app.``) are
never limited: they are one per event of note, and tests and operators read every one.

Text written straight to ``sys.stdout``/``sys.stderr`` (Python's "Exception ignored in ...",
a library's ``traceback.print_exc``) goes through :class:`StreamToLog`, which joins the writes of
one event-loop step into one record; uncaught exceptions in threads and unraisable exceptions
are logged with their traceback as one record too.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TextIO

__all__ = [
    "LINE_FORMAT",
    "LogRateLimiter",
    "OneLineFormatter",
    "OneLineHandler",
    "StreamToLog",
    "install_worker_logging",
]

LINE_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] [%(name)s] %(message)s"

RATE_BURST = 5
"""Records let through per (logger, template) and window before the rest are counted."""
RATE_INTERVAL_S = 10.0
"""The rate limiter's window, seconds."""
RATE_MAX_KEYS = 2048
"""Templates tracked at once; the oldest is dropped (its count reported) beyond this."""


def _one_line(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\\r").replace("\n", "\\n")


class OneLineFormatter(logging.Formatter):
    """:data:`LINE_FORMAT`, with every newline of the message and traceback escaped."""

    def __init__(self, fmt: str = LINE_FORMAT) -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)  # message + "\n" + exc_text/stack_info when present
        return _one_line(text.rstrip("\n"))


@dataclass(slots=True)
class _Window:
    start_s: float
    passed: int
    suppressed: int


Key = tuple[str, str]


class LogRateLimiter:
    """First ``burst`` per key and window pass; the rest are counted (pure: pass ``now``)."""

    def __init__(self, *, burst: int = RATE_BURST, interval_s: float = RATE_INTERVAL_S,
                 max_keys: int = RATE_MAX_KEYS) -> None:
        if burst < 1 or interval_s <= 0 or max_keys < 1:
            raise ValueError("burst >= 1, interval_s > 0 and max_keys >= 1 are required")
        self.burst = burst
        self.interval_s = interval_s
        self.max_keys = max_keys
        self._windows: OrderedDict[Key, _Window] = OrderedDict()

    def admit(self, key: Key, now: float) -> tuple[bool, list[tuple[Key, int]]]:
        """(let this record through?, summaries ``(key, suppressed)`` now due, oldest first).

        Due summaries are those of windows that ended (this key's included) and of keys
        dropped to stay under ``max_keys``: a count is reported once, never lost.
        """
        due = self.expire(now)
        window = self._windows.get(key)
        if window is None:
            self._windows[key] = _Window(now, 1, 0)
            while len(self._windows) > self.max_keys:
                old_key, old = self._windows.popitem(last=False)
                if old.suppressed:
                    due.append((old_key, old.suppressed))
            return True, due
        self._windows.move_to_end(key)
        if window.passed < self.burst:
            window.passed += 1
            return True, due
        window.suppressed += 1
        return False, due

    def expire(self, now: float) -> list[tuple[Key, int]]:
        """End every window older than ``interval_s``; their suppressed counts, oldest first."""
        due: list[tuple[Key, int]] = []
        for key in [k for k, w in self._windows.items() if now - w.start_s >= self.interval_s]:
            window = self._windows.pop(key)
            if window.suppressed:
                due.append((key, window.suppressed))
        return due

    def drain(self) -> list[tuple[Key, int]]:
        """Every count not yet reported (at exit); forgets all windows."""
        due = [(k, w.suppressed) for k, w in self._windows.items() if w.suppressed]
        self._windows.clear()
        return due


def _limited(record: logging.LogRecord) -> bool:
    """The platform's own INFO/DEBUG event lines are never rate-limited."""
    own = record.name == "app" or record.name.startswith("app.")
    return not (own and record.levelno < logging.WARNING)


class OneLineHandler(logging.StreamHandler):  # type: ignore[type-arg]  # TextIO stream
    """Writes :class:`OneLineFormatter` lines to ``stream``, rate-limited by template."""

    def __init__(self, stream: TextIO, *, limiter: LogRateLimiter | None = None,
                 now: Callable[[], float] = time.monotonic) -> None:
        super().__init__(stream)
        self.setFormatter(OneLineFormatter())
        self.limiter = limiter or LogRateLimiter()
        self.now = now
        self._limit_lock = threading.Lock()

    def handle(self, record: logging.LogRecord) -> bool:
        if not _limited(record):
            with self._limit_lock:
                due = self.limiter.expire(self.now())
            self._summarise(due)
            return bool(super().handle(record))
        key = (record.name, str(record.msg))
        with self._limit_lock:
            passed, due = self.limiter.admit(key, self.now())
        self._summarise(due)
        return bool(super().handle(record)) if passed else False

    def report_suppressed(self) -> None:
        """Report every suppressed count not reported yet (at exit and fail-stop)."""
        with self._limit_lock:
            due = self.limiter.drain()
        self._summarise(due)
        self.flush()

    def close(self) -> None:
        self.report_suppressed()
        super().close()

    def _summarise(self, due: list[tuple[Key, int]]) -> None:
        for (name, template), count in due:
            summary = logging.LogRecord(
                name, logging.WARNING, __file__, 0,
                "suppressed %d similar records in %.0fs: %s",
                (count, self.limiter.interval_s, template[:200]), None)
            super().handle(summary)

    def handleError(self, record: logging.LogRecord) -> None:  # logging API
        """A record that cannot be written is reported on the real stderr in one line."""
        exc = sys.exc_info()[1]
        with contextlib.suppress(OSError, AttributeError, ValueError):
            _real_stderr().write(_one_line(
                f"[logging error] {type(exc).__name__}: {exc} (record from {record.name} "
                f"{record.pathname}:{record.lineno})") + "\n")


class StreamToLog(io.TextIOBase):
    """A ``sys.stdout``/``sys.stderr`` replacement that turns written text into log records.

    Writes made during one step of the running event loop (a traceback printed piece by
    piece) become one record at the end of the step; without a running loop (another thread,
    start-up), the writes until ``quiet_s`` after the first one do. ``flush()`` (at exit and
    fail-stop) writes what is pending at once.
    """

    def __init__(self, logger: logging.Logger, level: int, *, quiet_s: float = 0.05) -> None:
        super().__init__()
        self.quiet_s = quiet_s
        self.logger = logger
        self.level = level
        self._parts: list[str] = []
        self._lock = threading.RLock()
        self._scheduled = False
        self._local = threading.local()

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if getattr(self._local, "busy", False):  # logging itself wrote here: never loop
            _real_stderr().write(s)
            return len(s)
        with self._lock:
            self._parts.append(s)
            if self._scheduled:
                return len(s)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            self._scheduled = True
            if loop is not None:
                loop.call_soon(self.flush)
            else:
                timer = threading.Timer(self.quiet_s, self.flush)
                timer.daemon = True
                timer.start()
        return len(s)

    def flush(self) -> None:
        with self._lock:
            text = "".join(self._parts).rstrip()
            self._parts.clear()
            self._scheduled = False
        if not text.strip():
            return
        self._local.busy = True
        try:
            self.logger.log(self.level, "%s", text)
        finally:
            self._local.busy = False

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase declares it writable
        return "utf-8"


def _real_stderr() -> TextIO:
    """The process's original stderr (``sys.__stderr__`` is None only without a console)."""
    return sys.__stderr__ if sys.__stderr__ is not None else sys.stderr


def _log_uncaught(logger: logging.Logger) -> Callable[..., None]:
    def hook(exc_type: type[BaseException], exc: BaseException,
             tb: TracebackType | None) -> None:
        logger.critical("uncaught %s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))
    return hook


def _thread_hook(logger: logging.Logger) -> Callable[[Any], None]:
    def hook(args: Any) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        if issubclass(args.exc_type, asyncio.CancelledError):
            # a service thread's loop cancelled at shutdown: not the error that ended the
            # worker, so never CRITICAL (supervisors report the last CRITICAL as the cause)
            logger.warning("thread %s ended cancelled", name,
                           exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
            return
        logger.critical("uncaught %s in thread %s: %s", args.exc_type.__name__, name,
                        args.exc_value,
                        exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
    return hook


def _unraisable_hook(logger: logging.Logger) -> Callable[[Any], None]:
    def hook(unraisable: Any) -> None:
        exc = unraisable.exc_value
        info = ((type(exc), exc, unraisable.exc_traceback) if exc is not None else None)
        logger.error("%s: %r", unraisable.err_msg or "Exception ignored in",
                     unraisable.object, exc_info=info)
    return hook


def install_worker_logging(level: int, *, stream: TextIO | None = None) -> OneLineHandler:
    """Make the root logger write one rate-limited line per record to ``stream``.

    ``stream`` defaults to the process's real stderr (the supervisor sends it to the worker's
    log file). Replaces the root logger's handlers, captures warnings, routes uncaught and
    unraisable exceptions to records, and points ``sys.stdout``/``sys.stderr`` at
    :class:`StreamToLog`.
    """
    out = stream if stream is not None else (sys.__stderr__ or sys.stderr)
    handler = OneLineHandler(out)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    hooks = logging.getLogger("app.runtime.uncaught")
    sys.excepthook = _log_uncaught(hooks)
    threading.excepthook = _thread_hook(hooks)
    sys.unraisablehook = _unraisable_hook(hooks)
    sys.stdout = StreamToLog(logging.getLogger("stdout"), logging.INFO)
    sys.stderr = StreamToLog(logging.getLogger("stderr"), logging.WARNING)
    return handler

"""Start, watch and stop ``fp worker`` processes (used by ``fp demo``, ``fp run start``, tests).

A worker is a separate process so that it can be killed (``kill -9``) and restarted like in
production; readiness is read from its ``/v1/health`` page, never guessed with sleeps.

This module is also the one place that reads a worker's log for people: :func:`last_error`
(pure, over the log's tail) finds the error a dead worker ended on, and :class:`WorkerWatch` is
what the main job asks between steps whether its worker is still there (issue #11 item 11).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from app.rails.errors import FraudPlatformError
from app.runtime.fail_stop import FAIL_STOP_EXIT_CODE, SHUTDOWN_DEADLINE_EXIT_CODE

__all__ = [
    "HEALTH_GRACE_S",
    "WorkerFailedError",
    "WorkerLostError",
    "WorkerProcess",
    "WorkerStartError",
    "WorkerWatch",
    "describe_exit",
    "http_json",
    "last_error",
]

HEALTH_GRACE_S = 30.0
"""A watched worker whose ``/v1/health`` is not 200 for this long is lost (rebalances and
recoveries take seconds; a lost broker fail-stops a worker within about 15 s)."""
LOG_TAIL_BYTES = 256 * 1024
"""How much of the end of a worker's log :meth:`WorkerProcess.last_error` reads."""
_MAX_ERROR_LINES = 12
_MAX_ERROR_CHARS = 2000


class WorkerFailedError(FraudPlatformError):
    """Base of the two ways a worker fails the job that depends on it.

    ``exit_code`` is the process's exit code when it was the job's own and it ended (negative:
    killed by that signal); ``last_error`` is the error its log ended on (:func:`last_error`);
    ``log_path`` is that log.
    """

    def __init__(self, message: str, *, exit_code: int | None = None,
                 last_error: str | None = None, log_path: Path | None = None) -> None:
        self.exit_code = exit_code
        self.last_error = last_error
        self.log_path = log_path
        super().__init__(message)


class WorkerStartError(WorkerFailedError):
    """A worker process exited or never became ready."""

    reason_code = "WORKER_START_FAILED"


class WorkerLostError(WorkerFailedError):
    """A worker the main job depends on exited, crash-loops, or stopped answering its health."""

    reason_code = "WORKER_LOST"


def http_json(url: str, timeout_s: float = 2.0) -> tuple[int, Any]:
    """GET ``url`` as JSON: (status, body), also for HTTP errors; (0, None) if unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # loopback only
            return resp.status, orjson.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, orjson.loads(exc.read())
        except orjson.JSONDecodeError:
            return exc.code, None
    except (urllib.error.URLError, OSError, orjson.JSONDecodeError):
        return 0, None


def describe_exit(code: int) -> str:
    """A process exit code for people: ``exit 70 (fail-stop)``, ``killed by SIGKILL``."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    meaning = {0: "clean stop", FAIL_STOP_EXIT_CODE: "fail-stop",
               SHUTDOWN_DEADLINE_EXIT_CODE: "shutdown deadline", 2: "command error"}.get(code)
    return f"exit {code}" + (f" ({meaning})" if meaning else "")


# --- reading a worker's last error from its log ---------------------------------------------

# faust/mode and app.runtime.log_setup lines: "[2026-12-03 13:53:45,072] [6979] [CRITICAL] ...".
_BRACKETED = re.compile(
    r"^\[\d{4}-\d{2}-\d{2}[ T][0-9:.,]+\]\s+\[\d+\]\s+\[(?P<level>[A-Z]+)\]\s?"
    r"(?:\[[\w.]+\]\s)?(?P<rest>.*)$")
_CLI_ERROR = re.compile(r"^fp: error \[[A-Z_]+\]: ")  # app.cli.main: a command that failed
_TRACEBACK = "Traceback (most recent call last):"
_CHAINED = ("During handling of the above exception, another exception occurred:",
            "The above exception was the direct cause of the following exception:")
# app.runtime.fail_stop.fail_stop's message; its exception text (traceback) follows it.
_FAIL_STOP = re.compile(r"agent (?P<agent>\S+) failed: (?P<exc>.*?); stopping the worker"
                        r"(?:(?!\\n)[^\n])*(?:(?:\\n|\n)(?P<tail>.*))?\Z", re.S)
_ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})
_JSON_LEVEL_KEYS = ("level", "levelname", "severity")
_JSON_MESSAGE_KEYS = ("message", "msg", "event")
_JSON_EXC_KEYS = ("exc_info", "exception", "exc_text", "traceback", "stack_trace")


@dataclass
class _Record:
    level: str | None
    text: str  # the message, with continuation lines joined by real newlines
    one_line: bool = True  # written as one physical line (newlines escaped as "\\n")

    @property
    def full(self) -> str:
        """The text with escaped newlines made real when the record was written as one line."""
        return self.text.replace("\\n", "\n") if self.one_line else self.text

    @property
    def has_traceback(self) -> bool:
        return _TRACEBACK in self.text

    @property
    def is_error(self) -> bool:
        return self.level in _ERROR_LEVELS or self.has_traceback


def _json_record(line: str) -> _Record | None:
    if not line.startswith("{"):
        return None
    try:
        body = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    level = next((str(body[k]).upper() for k in _JSON_LEVEL_KEYS if k in body), None)
    message = next((str(body[k]) for k in _JSON_MESSAGE_KEYS if k in body), None)
    if level is None and message is None:
        return None
    exc = next((str(body[k]) for k in _JSON_EXC_KEYS if body.get(k)), "")
    text = (message or "") + ("\n" + exc if exc else "")
    return _Record(level, text, one_line=False)  # orjson already turned "\n" into newlines


def _records(log_text: str) -> list[_Record]:
    """Split a log into records: one per log line, with its continuation lines."""
    records: list[_Record] = []
    for line in log_text.splitlines():
        record = _json_record(line)
        if record is None and (m := _BRACKETED.match(line)) is not None:
            record = _Record(m["level"], m["rest"])
        if record is None and _CLI_ERROR.match(line):
            record = _Record("ERROR", line)
        if record is None and line.startswith(_TRACEBACK) and (
                not records or records[-1].level not in {*_ERROR_LEVELS, "WARNING"}):
            record = _Record(None, line, one_line=False)  # e.g. an uncaught error at start-up
        if record is not None:
            records.append(record)
        elif records:
            records[-1].text += "\n" + line
            records[-1].one_line = False
        elif line.strip():
            records.append(_Record(None, line, one_line=False))
    return records


def _exception_lines(text: str) -> str:
    """The exception line(s) at the end of a traceback (its last, outermost exception)."""
    lines = text.split("\n")
    start = max(i for i, line in enumerate(lines) if line.strip() == _TRACEBACK) + 1
    while start < len(lines) and (not lines[start].strip() or lines[start][:1] in " \t"):
        start += 1  # frames, source lines and carets are indented
    out = []
    for line in lines[start:]:
        if line.strip() in _CHAINED:
            break
        out.append(line.rstrip())
    return "\n".join(out).strip()


def _clip(text: str) -> str:
    lines = [line for line in text.strip().split("\n")][:_MAX_ERROR_LINES]
    out = "\n".join(lines)
    return out if len(out) <= _MAX_ERROR_CHARS else out[:_MAX_ERROR_CHARS - 3] + "..."


def _summary(record: _Record) -> str:
    full = record.full if record.has_traceback or _FAIL_STOP.search(record.text) else record.text
    if (m := _FAIL_STOP.search(full)) is not None:
        tail = (m["tail"] or "").strip()
        exc = _exception_lines(tail) if _TRACEBACK in tail else tail
        return _clip(f"agent {m['agent']} failed: {exc or m['exc']}")
    if record.has_traceback:
        return _clip(_exception_lines(full) or full)
    return _clip(record.text.split("\n", 1)[0])


def last_error(log_text: str) -> str | None:
    """The error a worker's log ends on, for people; None if the text holds no error.

    Reads faust's and :mod:`app.runtime.log_setup`'s ``[time] [pid] [LEVEL] ...`` lines (a
    traceback either on the following lines or in the same line with escaped newlines), JSON
    log lines (``level``/``message``/``exc_info``-style keys) and bare tracebacks. Preference,
    latest first within each: the fail-stop record of :mod:`app.runtime.fail_stop` (named with
    its agent), a CRITICAL record, a record with a traceback, any ERROR record. A record with a
    traceback is summarised by its exception line(s), e.g.
    ``faust.exceptions.PartitionsMismatch: The source topic ...``; the result is clipped to a
    dozen lines.
    """
    errors = [r for r in _records(log_text) if r.is_error]
    if not errors:
        return None
    tiers = ([r for r in errors if _FAIL_STOP.search(r.text)],
             [r for r in errors if r.level in {"CRITICAL", "FATAL"}],
             [r for r in errors if r.has_traceback], errors)
    chosen = next(tier[-1] for tier in tiers if tier)
    return _summary(chosen)


# --- the worker process ------------------------------------------------------------------------


@dataclass
class WorkerProcess:
    """One ``fp --profile PROFILE worker`` child process with its log file."""

    profile: str
    web_port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_start: int = 0
    """Where this process's output begins in ``log_path`` (the file is appended to)."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def health_url(self) -> str:
        return f"{self.base_url}/v1/health"

    def start(self) -> WorkerProcess:
        """Spawn the worker (stdout and stderr go to ``log_path``)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.log_start = log.tell()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli.main", "--profile", self.profile, "worker"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        return self

    def exit_code(self) -> int | None:
        """The process's exit code once it ended; None while it runs (or was never started)."""
        return None if self.proc is None else self.proc.poll()

    def last_error(self, max_bytes: int = LOG_TAIL_BYTES) -> str | None:
        """:func:`last_error` over the tail of this process's part of its log."""
        try:
            with open(self.log_path, "rb") as log:
                end = log.seek(0, os.SEEK_END)
                start = max(self.log_start, end - max_bytes)
                log.seek(start)
                data = log.read(end - start)
        except OSError:
            return None
        if start > self.log_start:  # began mid-line: drop the partial first line
            data = data.partition(b"\n")[2]
        return last_error(data.decode("utf-8", errors="replace"))

    def ended_error(self, when: str, kind: type[WorkerFailedError]) -> WorkerFailedError:
        """The error for this ended process: its exit, its last logged error, its log."""
        code = self.exit_code()
        error = self.last_error()
        what = describe_exit(code) if code is not None else "still running"
        detail = ("; last error:\n  " + error.replace("\n", "\n  ")) if error else \
            "; nothing in its log names an error"
        return kind(f"the worker ended {when}: {what}{detail}\n  log: {self.log_path}",
                    exit_code=code, last_error=error, log_path=self.log_path)

    def wait_ready(self, timeout_s: float = 90.0) -> dict[str, Any]:
        """Block until ``/v1/health`` says ready; returns the health body.

        Raises:
            WorkerStartError: the process exited, or was not ready in ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        body: Any = None
        while time.monotonic() < deadline:
            if self.exit_code() is not None:
                raise self.ended_error("before it was ready", WorkerStartError)
            status, body = http_json(self.health_url)
            if status == 200 and body and body.get("ready"):
                return dict(body)
            time.sleep(0.25)
        error = self.last_error() if self.proc is not None else None
        raise WorkerStartError(
            f"worker not ready after {timeout_s:.0f}s (last health: {body})"
            + (f"; last error: {error}" if error else "") + f"; log: {self.log_path}",
            last_error=error, log_path=self.log_path)

    def get(self, path: str) -> tuple[int, Any]:
        return http_json(f"{self.base_url}{path}")

    def kill9(self) -> None:
        """Kill without warning (no flush, no commit, no leave-group): a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """Stop cleanly (SIGTERM), escalating to SIGKILL after ``timeout_s``; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


# --- watching a worker from the main job ---------------------------------------------------------

Probe = Callable[[str], tuple[int, Any]]


@dataclass
class WorkerWatch:
    """Is the main job's worker still there? Asked between steps and on every progress poll.

    A worker the job started (``owned``) is lost the moment its process ends. Any worker is
    also lost when its ``/v1/health`` has not answered 200 for ``grace_s`` in a row, or when it
    dropped from ready to not-ready ``max_flaps`` times within ``flap_window_s`` (a worker that
    an outside supervisor keeps restarting: a crash loop). Wall clock by design: it measures a
    process, not events; ``now`` and ``probe`` are injectable.
    """

    worker: WorkerProcess
    owned: bool
    grace_s: float = HEALTH_GRACE_S
    max_flaps: int = 3
    flap_window_s: float = 5 * HEALTH_GRACE_S
    now: Callable[[], float] = time.monotonic
    probe: Probe = http_json
    _bad_since: float | None = None
    _was_ready: bool = True
    _last_health: tuple[int, Any] = (0, None)
    _flaps: deque[float] = field(default_factory=deque)

    def check(self, during: str) -> None:
        """Return if the worker looks alive; raise otherwise.

        Args:
            during: what the job was doing, for the message (``"while streaming run R"``).

        Raises:
            WorkerLostError: naming the exit code and the last error (an owned worker), or the
                health URL and what it last answered.
        """
        if self.owned and self.worker.exit_code() is not None:
            raise self.worker.ended_error(during, WorkerLostError)
        self._last_health = self.probe(self.worker.health_url)
        ready = self._last_health[0] == 200
        now = self.now()
        if ready:
            self._bad_since = None
        elif self._bad_since is None:
            self._bad_since = now
        if self._was_ready and not ready:
            self._flaps.append(now)
        self._was_ready = ready
        while self._flaps and now - self._flaps[0] > self.flap_window_s:
            self._flaps.popleft()
        if len(self._flaps) >= self.max_flaps:
            raise self._unhealthy(
                f"dropped out of ready {len(self._flaps)} times in {self.flap_window_s:.0f}s "
                f"(crash-looping?) {during}")
        if self._bad_since is not None and now - self._bad_since >= self.grace_s:
            raise self._unhealthy(f"has not been ready for {now - self._bad_since:.0f}s {during}")

    def _unhealthy(self, what: str) -> WorkerLostError:
        status, body = self._last_health
        answer = "no answer" if status == 0 else f"HTTP {status}"
        why = body.get("broker_lost") if isinstance(body, dict) else None
        error = self.worker.last_error() if self.owned else None
        return WorkerLostError(
            f"the worker at {self.worker.health_url} {what}; last answer: {answer}"
            + (f" (broker lost: {why})" if why else "")
            + (f"; last error:\n  {error.replace(chr(10), chr(10) + '  ')}" if error else ""),
            exit_code=None, last_error=error, log_path=self.worker.log_path if self.owned else None)

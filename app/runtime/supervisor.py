"""Start, watch and stop ``fp worker`` processes (used by ``fp demo`` and the integration tests).

A worker is a separate process so that it can be killed (``kill -9``) and restarted like in
production; readiness is read from its ``/v1/health`` page, never guessed with sleeps.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from app.rails.errors import FraudPlatformError

__all__ = ["WorkerProcess", "WorkerStartError", "http_json"]


class WorkerStartError(FraudPlatformError):
    """A worker process exited or never became ready."""

    reason_code = "WORKER_START_FAILED"


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


@dataclass
class WorkerProcess:
    """One ``fp --profile PROFILE worker`` child process with its log file."""

    profile: str
    web_port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> WorkerProcess:
        """Spawn the worker (stdout and stderr go to ``log_path``)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli.main", "--profile", self.profile, "worker"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        return self

    def wait_ready(self, timeout_s: float = 90.0) -> dict[str, Any]:
        """Block until ``/v1/health`` says ready; returns the health body.

        Raises:
            WorkerStartError: the process exited, or was not ready in ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        body: Any = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise WorkerStartError(
                    f"worker exited with code {self.proc.returncode}; log: {self.log_path}"
                )
            status, body = http_json(f"{self.base_url}/v1/health")
            if status == 200 and body and body.get("ready"):
                return dict(body)
            time.sleep(0.25)
        raise WorkerStartError(
            f"worker not ready after {timeout_s:.0f}s (last health: {body}); log: {self.log_path}"
        )

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

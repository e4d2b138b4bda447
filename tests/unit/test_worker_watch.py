"""The main job watches its worker (issue #11 item 11): a dead or unhealthy worker ends the job.

Real child processes (a worker that cannot start, a process killed with SIGKILL) and a real
loopback HTTP server standing in for ``/v1/health``; only the watch's clock is driven by hand,
so the grace period is exercised without waiting it out.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.runtime.supervisor import (
    WorkerLostError,
    WorkerProcess,
    WorkerStartError,
    WorkerWatch,
    describe_exit,
)

pytestmark = pytest.mark.timeout(60)

OLD_CRASH = ("[2026-12-01 10:00:00,000] [1] [CRITICAL] [app.runtime.fail_stop] agent al failed: "
             "OSError('old'); stopping the worker without committing (it is restarted and "
             "recovers as from a crash)\\nOSError: an earlier process's error\n")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Health:
    """A real HTTP server answering ``/v1/health`` with a settable status and body."""

    def __init__(self) -> None:
        self.status = 200
        self.body: dict[str, Any] = {"ready": True}
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server API
                data = orjson.dumps(health.body)
                self.send_response(health.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # keep pytest output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, status: int, **body: Any) -> None:
        self.status, self.body = status, {"ready": status == 200, **body}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def health() -> Iterator[Health]:
    server = Health()
    yield server
    server.close()


def _unstartable(tmp_path: Path) -> WorkerProcess:
    """A real ``fp worker`` that exits at once (its profile does not exist)."""
    log = tmp_path / "logs" / "worker.log"
    log.parent.mkdir(parents=True)
    log.write_text(OLD_CRASH)  # an earlier process's output in the same (appended) file
    return WorkerProcess(str(tmp_path / "missing-profile.yaml"), 9, log)


def test_issue_11_item_11_a_worker_that_exits_at_start_is_named_with_its_error(
        tmp_path: Path) -> None:
    worker = _unstartable(tmp_path).start()
    with pytest.raises(WorkerStartError) as caught:
        worker.wait_ready(timeout_s=45)
    message = str(caught.value)
    assert "exit 2" in message and "PROFILE_INVALID" in message
    assert "earlier process" not in message  # only this process's part of the log is read
    assert str(worker.log_path) in message


def test_issue_11_item_11_an_owned_worker_that_exited_ends_the_job_with_code_and_error(
        tmp_path: Path, health: Health) -> None:
    worker = _unstartable(tmp_path)
    worker.web_port = health.port  # healthy answers must not hide a dead process
    worker.start()
    assert worker.proc is not None
    worker.proc.wait(timeout=45)
    watch = WorkerWatch(worker, owned=True, now=Clock())
    with pytest.raises(WorkerLostError) as caught:
        watch.check("while run r1 streamed")
    lost = caught.value
    assert lost.reason_code == "WORKER_LOST" and lost.exit_code == 2
    assert lost.last_error is not None and "PROFILE_INVALID" in lost.last_error
    assert "while run r1 streamed: exit 2" in str(lost)


def test_issue_11_item_11_a_worker_killed_with_sigkill_is_named_so(
        tmp_path: Path, health: Health) -> None:
    worker = WorkerProcess("unused", health.port, tmp_path / "worker.log")
    worker.log_path.write_text("")
    worker.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    watch = WorkerWatch(worker, owned=True, now=Clock())
    watch.check("while run r1 streamed")  # alive and healthy: nothing to say
    worker.kill9()
    with pytest.raises(WorkerLostError) as caught:
        watch.check("while run r1 streamed")
    assert caught.value.exit_code == -signal.SIGKILL
    assert "killed by SIGKILL" in str(caught.value)
    assert "nothing in its log names an error" in str(caught.value)


def test_issue_11_item_11_a_running_worker_is_lost_after_the_grace_without_health(
        tmp_path: Path, health: Health) -> None:
    clock = Clock()
    worker = WorkerProcess("unused", health.port, tmp_path / "worker.log")
    watch = WorkerWatch(worker, owned=False, grace_s=30, now=clock)
    watch.check("while streaming")
    health.set(503, broker_lost="2 probes failed")
    watch.check("while streaming")  # not ready since t=0
    clock.t = 29.0
    watch.check("while streaming")
    clock.t = 30.0
    with pytest.raises(WorkerLostError) as caught:
        watch.check("while streaming")
    message = str(caught.value)
    assert worker.health_url in message and "HTTP 503" in message
    assert "broker lost: 2 probes failed" in message and caught.value.exit_code is None


def test_a_ready_answer_resets_the_grace(tmp_path: Path, health: Health) -> None:
    clock = Clock()
    watch = WorkerWatch(WorkerProcess("unused", health.port, tmp_path / "w.log"), owned=False,
                        grace_s=30, max_flaps=10, now=clock)
    health.set(503)
    watch.check("x")
    clock.t = 25.0
    health.set(200)
    watch.check("x")
    health.set(503)
    clock.t = 26.0
    watch.check("x")
    clock.t = 55.0
    watch.check("x")  # 29 s since it was last ready
    clock.t = 56.0
    with pytest.raises(WorkerLostError):
        watch.check("x")


def test_a_worker_that_stops_answering_is_lost_with_no_answer(
        tmp_path: Path, health: Health) -> None:
    clock = Clock()
    watch = WorkerWatch(WorkerProcess("unused", health.port, tmp_path / "w.log"), owned=False,
                        grace_s=5, now=clock)
    watch.check("x")
    health.close()
    watch.check("x")
    clock.t = 5.0
    with pytest.raises(WorkerLostError, match="no answer"):
        watch.check("x")


def test_issue_11_item_11_a_crash_looping_worker_is_lost_before_the_grace(
        tmp_path: Path, health: Health) -> None:
    clock = Clock()
    watch = WorkerWatch(WorkerProcess("unused", health.port, tmp_path / "w.log"), owned=False,
                        grace_s=30, max_flaps=3, flap_window_s=150, now=clock)
    for cycle in range(2):  # ready, then down for 10 s: a restart; twice is not yet a loop
        clock.t = cycle * 20.0
        health.set(200)
        watch.check("x")
        clock.t += 10.0
        health.set(503)
        watch.check("x")
    clock.t = 50.0
    health.set(200)
    watch.check("x")
    clock.t = 55.0
    health.set(503)
    with pytest.raises(WorkerLostError, match="crash-looping"):
        watch.check("x")


def test_exit_codes_are_described_for_people() -> None:
    assert describe_exit(70) == "exit 70 (fail-stop)"
    assert describe_exit(75) == "exit 75 (shutdown deadline)"
    assert describe_exit(0) == "exit 0 (clean stop)"
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(3) == "exit 3"

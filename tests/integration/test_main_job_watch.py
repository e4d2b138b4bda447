"""The main job notices a dead worker and names its error (issue #11 item 11), on the real broker.

Observed before: with ``wiring.worker.partitions: 1`` over topics that exist with 4 partitions,
the worker crashed on faust's ``PartitionsMismatch`` while ``fp run start`` waited 60 s "without
progress" and printed a summary of zeros; a worker killed mid-run went unnoticed the same way;
and the worker log went to the repository's ``.fp/logs`` whatever the profile said. Now:

- the job ends at once with the exit code (70, the fail-stop) and the exception line from the
  worker's log (``WORKER_START_FAILED`` or ``WORKER_LOST``, whichever phase it crashed in);
- ``fp run start`` refuses that profile before it starts anything (``PARTITIONS_MISMATCH``);
- ``fp run start`` whose worker is killed with SIGKILL mid-stream exits non-zero within seconds
  naming the signal, and the worker's log is where ``wiring.worker.log_dir`` says;
- a worker ``fp run start`` did not start is watched through its health and named by URL.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from app.eb.embedded_broker import BrokerState
from app.profiles.loader import load_profile
from app.runtime.fail_stop import FAIL_STOP_EXIT_CODE
from app.runtime.run_driver import (
    PartitionsMismatchError,
    Steps,
    run_main_job,
    start_run,
)
from app.runtime.supervisor import (
    WorkerFailedError,
    WorkerLostError,
    WorkerProcess,
    WorkerWatch,
)
from tests.fixtures.broker import Cluster
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(280)]

STALL_S = 240.0
"""Longer than any test may take: a job that ends did so because it noticed, not on a stall."""
_PID = re.compile(r"^\[[^\]]+\] \[(\d+)\] \[", re.M)


def _copy_world(tiny_world: Path, oracle_root: Path) -> Path:
    world = oracle_root / tiny_world.relative_to(tiny_world.parents[3])
    shutil.copytree(tiny_world, world)
    return world


@dataclass
class MismatchedTopics:
    """A cluster whose topics exist with 4 partitions, and a profile that says 1."""

    cluster: Cluster
    profile_path: Path
    world: Path


@pytest.fixture(scope="module")
def mismatched(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
               embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[MismatchedTopics]:
    root = tmp_path_factory.mktemp("mismatch")
    cluster = Cluster(root, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"}})
    first = cluster.spawn("w4")  # every agent: declares the topics with 4 partitions
    first.wait_ready()
    assert first.stop() == 0
    # A new app (group and changelogs) with 1 partition over the same 4-partition topics.
    path = cluster.profile("w1", partitions=1, app_id=f"fp-test-{cluster.unique}-one",
                           log_dir=str(root / "w1-logs"))
    yield MismatchedTopics(cluster, path, _copy_world(tiny_world, root / "oracle"))
    cluster.stop_all()


def test_issue_11_item_11_a_partitions_mismatch_crash_ends_the_job_naming_it(
        mismatched: MismatchedTopics, tmp_path: Path) -> None:
    profile = load_profile(str(mismatched.profile_path))
    worker = WorkerProcess(str(mismatched.profile_path), profile.wiring.worker.web_port,
                           tmp_path / "worker.log").start()
    mismatched.cluster.workers.append(worker)
    started = time.monotonic()
    # The job's sequence (start_run's, without its refusal up front): the crash comes on the
    # first table write, at start-up (IG reconciles on assignment) or on the first event.
    with pytest.raises(WorkerFailedError) as caught:
        worker.wait_ready()
        run_main_job(profile, str(mismatched.world), "baseline", run_label="mismatch",
                     steps=Steps(5), stall_s=STALL_S, reports_dir=tmp_path / "reports",
                     watch=WorkerWatch(worker, owned=True))
    ended_after_s = time.monotonic() - started
    lost = caught.value
    assert lost.exit_code == FAIL_STOP_EXIT_CODE, lost
    assert lost.last_error is not None
    assert "faust.exceptions.PartitionsMismatch" in lost.last_error, lost.last_error
    assert "has 4 partitions" in lost.last_error and "has 1 partitions" in lost.last_error
    assert "exit 70 (fail-stop)" in str(lost) and str(worker.log_path) in str(lost)
    assert ended_after_s < STALL_S / 4  # noticed, not waited out
    assert not (tmp_path / "reports").exists()  # no summary of zeros


def test_issue_11_item_11_fp_run_start_refuses_a_partition_count_the_topics_do_not_have(
        mismatched: MismatchedTopics) -> None:
    profile = load_profile(str(mismatched.profile_path))
    with pytest.raises(PartitionsMismatchError) as caught:
        start_run(profile, str(mismatched.profile_path), str(mismatched.world), "baseline",
                  run_label="refused", stall_s=STALL_S)
    message = str(caught.value)
    assert caught.value.reason_code == "PARTITIONS_MISMATCH"
    assert "wiring.worker.partitions is 1" in message
    assert f"t{mismatched.cluster.unique}.fp.ig.ingress.v1 has 4" in message
    assert not Path(profile.wiring.worker.log_dir).exists()  # no worker was started


def _slow_cluster(root: Path, broker_state_dir: Path) -> Cluster:
    # Paced at 1,800 world seconds per second, the tiny world's 2 days stream for ~96 s: long
    # enough to kill the worker mid-stream whatever the machine's speed.
    return Cluster(root, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"},
                                                         "streaming": {"speedup": 1800}})


def _streaming(worker: WorkerProcess) -> tuple[bool, object]:
    status, body = worker.get("/v1/census")
    return status == 200 and bool(body and body.get("counts")), (status, body)


def test_issue_11_item_11_fp_run_start_ends_at_once_when_its_worker_is_killed(
        tiny_world: Path, tmp_path: Path, embedded_broker: BrokerState,
        broker_state_dir: Path) -> None:
    cluster = _slow_cluster(tmp_path, broker_state_dir)
    log_dir = tmp_path / "profile-says-logs"
    path = cluster.profile("w1", log_dir=str(log_dir))
    port = yaml.safe_load(path.read_text())["wiring"]["worker"]["web_port"]
    world = _copy_world(tiny_world, tmp_path / "oracle")
    out = tmp_path / "fp-run-start.out"
    with open(out, "wb") as sink:
        job = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "--profile", str(path), "run", "start",
             "--world", str(world), "--label", "kill9", "--stall-s", str(STALL_S),
             "--reports-dir", str(tmp_path / "reports")],
            stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
    try:
        worker_log = log_dir / "worker.log"
        wait_for(lambda: (worker_log.is_file() and _PID.search(worker_log.read_text())
                          is not None, None), 90, "the worker's log in the profile's log_dir")
        pid = int(_PID.search(worker_log.read_text())[1])  # type: ignore[index]  # checked
        probe = WorkerProcess(str(path), port, worker_log)
        wait_for(lambda: _streaming(probe), 120, "the run to stream (census counts)")
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        code = job.wait(timeout=60)
        ended_after_s = time.monotonic() - killed
    finally:
        if job.poll() is None:
            job.kill()
            job.wait(timeout=10)
    text = out.read_text()
    assert code == 2, text
    assert "fp: error [WORKER_LOST]" in text and "killed by SIGKILL" in text, text
    assert "streamed" in text and str(worker_log) in text
    assert ended_after_s < STALL_S / 4, text  # at once, not after the stall period
    assert "summary" not in text  # no summary of zeros


def test_issue_11_item_11_a_worker_it_did_not_start_is_watched_through_its_health(
        tiny_world: Path, tmp_path: Path, embedded_broker: BrokerState,
        broker_state_dir: Path) -> None:
    cluster = _slow_cluster(tmp_path, broker_state_dir)
    path = cluster.profile("w1")
    outside = WorkerProcess(str(path), load_profile(str(path)).wiring.worker.web_port,
                            tmp_path / "outside.log").start()  # e.g. run by systemd
    cluster.workers.append(outside)
    outside.wait_ready()
    world = _copy_world(tiny_world, tmp_path / "oracle")

    def kill_once_streaming() -> None:
        wait_for(lambda: _streaming(outside), 120, "the run to stream (census counts)")
        outside.kill9()

    killer = threading.Thread(target=kill_once_streaming, daemon=True)
    killer.start()
    with pytest.raises(WorkerLostError) as caught:
        start_run(load_profile(str(path)), str(path), str(world), "baseline",
                  log_dir=tmp_path / "unused-logs", run_label="outside", stall_s=STALL_S,
                  reports_dir=tmp_path / "reports", health_grace_s=5)
    killer.join(timeout=10)
    message = str(caught.value)
    assert outside.health_url in message and "no answer" in message, message
    assert caught.value.exit_code is None  # not its process: it names the URL instead
    assert not (tmp_path / "unused-logs").exists()

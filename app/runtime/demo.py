"""The main job behind ``make demo``: a small world end to end on the embedded broker.

Start the embedded broker and one worker (all agents; its log in ``wiring.worker.log_dir``),
then ``run_main_job``: SR, streaming at full speed through IG, the hot path, AL and DLA, waiting
until the run drained (from the durable record), evaluation against the world's truth, summary
and report; then stop everything it started and print how long each phase took. The worker is
watched throughout: if it exits, the demo ends at once with its exit code and last error.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from app.profiles.loader import Profile
from app.profiles.wiring import TansuBroker
from app.runtime.bus_address import broker_epoch, embedded_broker
from app.runtime.run_driver import (
    DEFAULT_STALL_S,
    WORKER_LOG,
    MainJobResult,
    Steps,
    check_partitions,
    run_main_job,
)
from app.runtime.supervisor import WorkerProcess, WorkerWatch, describe_exit

__all__ = ["DEMO_STEPS", "run_demo"]

DEMO_STEPS = 8
"""World, broker, worker, then the main job's five steps."""


def _phases(result: MainJobResult | None, startup_s: float, total_s: float) -> str:
    parts = [f"startup {startup_s:.1f}s"]
    if result is not None:
        parts += [f"{name} {seconds:.1f}s" for name, seconds in result.phases_s.items()]
    return f"demo done in {total_s:.1f}s (" + ", ".join(parts) + ")"


def run_demo(profile: Profile, profile_arg: str, world: str, *, steps: Steps,
             log_dir: Path | None = None, stall_s: float = DEFAULT_STALL_S) -> int:
    """Run the main job on ``world`` (a sealed pack's locator); 0 when it drained.

    The worker logs to ``log_dir`` (default: the profile's ``wiring.worker.log_dir``).

    Raises:
        WorkerStartError: the worker exited or was not ready in time.
        WorkerLostError: the worker exited before the run drained (its exit code, last error).
    """
    started_broker = False
    t0 = time.monotonic()
    if isinstance(profile.wiring.broker, TansuBroker):
        broker = embedded_broker(profile)
        started_broker = broker.running() is None
        state = asyncio.run(broker.up(timeout_s=profile.wiring.broker.start_timeout_s))
        steps.say(f"embedded broker answering at {state.bootstrap} (pid {state.pid})")
    logs = log_dir if log_dir is not None else profile.resolve(profile.wiring.worker.log_dir)
    worker = WorkerProcess(profile_arg, profile.wiring.worker.web_port, logs / WORKER_LOG)
    result: MainJobResult | None = None
    startup_s = 0.0
    try:
        check_partitions(profile)
        worker.start()
        health = worker.wait_ready()
        steps.say(f"worker {health['app_id']} connected; assigned {len(health['assigned'])} "
                  f"partitions; log {worker.log_path}")
        startup_s = time.monotonic() - t0
        # One run per embedded-broker instance: its bus starts empty, so the run starts fresh.
        label = f"demo-{broker_epoch(profile) or 'kafka'}"
        result = run_main_job(profile, world, "baseline", run_label=label, steps=steps,
                              stall_s=stall_s, watch=WorkerWatch(worker, owned=True))
    finally:
        code = worker.stop()
        print(f"worker stopped ({describe_exit(code) if code is not None else 'not started'})",
              end="")
        if started_broker:
            embedded_broker(profile).down()
            print("; embedded broker stopped", end="")
        print("\n" + _phases(result, startup_s, time.monotonic() - t0))
    return 0 if code == 0 and result is not None and result.ok else 1

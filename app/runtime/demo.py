"""The main job behind ``make demo``: a small world end to end on the embedded broker.

Start the embedded broker and one worker (all agents; its log in ``wiring.worker.log_dir``),
then ``run_main_job``: SR, streaming through IG, the hot path, AL and DLA, waiting until the run
drained (from the durable record), evaluation against the world's truth, summary and report;
then stop everything it started and print how long each phase took. The worker is watched
throughout: if it exits, the demo ends at once with its exit code and last error.

The stream is paced at a constant offered load below one worker's capacity (``--rate``, rows
per second; ``wiring.streaming.rows_per_s`` of a copy of the profile), so the latency the
summary prints is the platform's own, not queueing behind a flood; the full-speed throughput
is the bench's (``make bench``), which the demo quotes when it has been measured here.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import yaml

from app.profiles.loader import Profile, load_profile
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

__all__ = ["DEMO_RATE", "DEMO_STEPS", "paced_profile", "run_demo"]

DEMO_STEPS = 8
"""World, broker, worker, then the main job's five steps."""
DEMO_RATE = 100.0
"""Rows per second the demo offers: about a third of what one worker admits and decides on two
cores (README, Performance), so what the summary's latency shows is the platform, not a queue."""
BENCH_SUMMARY = Path(".cache/bench/end_to_end.json")


def paced_profile(profile: Profile, rows_per_s: float) -> tuple[str, Profile]:
    """A copy of ``profile`` whose WSP streams ``rows_per_s`` rows a second (its path under the
    profile's ``.fp/`` and the loaded copy); wiring only, so every decision stays the same."""
    if profile.source_path is None:
        raise ValueError("a profile loaded from a file is needed to pace the demo")
    body = yaml.safe_load(profile.source_path.read_text(encoding="utf-8"))
    body.setdefault("wiring", {}).setdefault("streaming", {})["rows_per_s"] = rows_per_s
    path = profile.resolve(".fp/demo/profile-paced.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return str(path), load_profile(str(path), base_dir=profile.base_dir)


def _full_speed(profile: Profile) -> str:
    """The bench's full-speed figure, when it was measured on this machine."""
    path = profile.resolve(str(BENCH_SUMMARY))
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        one = summary["throughput"]["1"]
        return (f"full speed: {one['e2e_decisions_per_s']:,} decisions/s end to end with one "
                f"worker ({summary['facts']}; {path})")
    except (OSError, ValueError, KeyError, TypeError):
        return ("full speed: not measured here yet; `make bench` measures it "
                "(bench/bench_end_to_end.py)")


def _phases(result: MainJobResult | None, startup_s: float, total_s: float) -> str:
    parts = [f"startup {startup_s:.1f}s"]
    if result is not None:
        parts += [f"{name} {seconds:.1f}s" for name, seconds in result.phases_s.items()]
    return f"demo done in {total_s:.1f}s (" + ", ".join(parts) + ")"


def run_demo(profile: Profile, profile_arg: str, world: str, *, steps: Steps,
             log_dir: Path | None = None, stall_s: float = DEFAULT_STALL_S,
             rate: float = DEMO_RATE) -> int:
    """Run the main job on ``world`` (a sealed pack's locator); 0 when it drained.

    The worker logs to ``log_dir`` (default: the profile's ``wiring.worker.log_dir``). ``rate``
    paces the stream (rows per second; 0 = the profile's own pacing, full speed locally).

    Raises:
        WorkerStartError: the worker exited or was not ready in time.
        WorkerLostError: the worker exited before the run drained (its exit code, last error).
    """
    started_broker = False
    t0 = time.monotonic()
    if rate > 0:
        profile_arg, profile = paced_profile(profile, rate)
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
        if rate > 0 and result is not None:
            print(f"offered load {rate:g} rows/s (paced, below capacity: the latency above is "
                  f"the platform's); {_full_speed(profile)}")
    return 0 if code == 0 and result is not None and result.ok else 1

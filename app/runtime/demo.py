"""The main job behind ``make demo`` (it grows with each issue).

Today: start the embedded broker and a worker, run SR on a freshly generated world, stream it
through WSP, IG and the hot path on the bus, wait until every admitted authorisation has its
decision, and print a summary with the worker's golden signals; then stop everything it started.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

from app.profiles.loader import Profile
from app.profiles.wiring import TansuBroker
from app.runtime.bus_address import broker_epoch, embedded_broker
from app.runtime.run_driver import start_run
from app.runtime.supervisor import WorkerProcess

__all__ = ["run_demo"]


def _metric_total(text: str, name: str, *, having: str = "") -> float:
    """Sum of a metric's samples (those whose labels contain ``having``, if given)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if (line.startswith(name + "{") or line.startswith(name + " "))
               and having in line)


def _metrics(worker: WorkerProcess) -> str:
    with urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5) as resp:
        return str(resp.read().decode())


def _wait_decisions(worker: WorkerProcess, timeout_s: float = 300.0) -> str:
    """Wait until the hot path decided every admitted authorisation; the last metrics page."""
    deadline = time.monotonic() + timeout_s
    while True:
        metrics = _metrics(worker)
        admitted = _metric_total(metrics, "fp_ig_receipts_total",
                                 having='decision="ADMIT",event_type="auth_request"')
        if _metric_total(metrics, "fp_df_decisions_total") >= admitted or \
                time.monotonic() > deadline:
            return metrics
        time.sleep(0.5)


def run_demo(profile: Profile, profile_arg: str, world: str, *, log_dir: Path) -> int:
    """Run the demo on ``world`` (a sealed pack's locator) and print a summary."""
    started_broker = False
    t0 = time.monotonic()
    if isinstance(profile.wiring.broker, TansuBroker):
        broker = embedded_broker(profile)
        started_broker = broker.running() is None
        state = asyncio.run(broker.up(timeout_s=profile.wiring.broker.start_timeout_s))
        print(f"[2/5] embedded broker answering at {state.bootstrap} (pid {state.pid})")
    worker = WorkerProcess(profile_arg, profile.wiring.worker.web_port, log_dir / "worker.log")
    try:
        worker.start()
        health = worker.wait_ready()
        print(f"[3/5] worker {health['app_id']} connected; assigned {len(health['assigned'])} "
              f"partitions; log {worker.log_path}")
        # One run per embedded-broker instance: its bus starts empty, so the run starts fresh.
        label = f"demo-{broker_epoch(profile) or 'kafka'}"
        summary = start_run(profile, profile_arg, world, "baseline", log_dir=log_dir,
                            run_label=label)
        print("[4/5] " + "\n      ".join(summary.lines()))
        metrics = _wait_decisions(worker)
        outcomes = ", ".join(
            f"{outcome} {_metric_total(metrics, 'fp_df_decisions_total', having=label):,.0f}"
            for outcome in ("APPROVE", "STEP_UP", "REVIEW", "DECLINE")
            for label in [f'outcome="{outcome}"'])
        print(f"[5/5] {worker.base_url}/metrics: "
              f"{_metric_total(metrics, 'fp_ig_receipts_total'):,.0f} receipts, "
              f"{_metric_total(metrics, 'fp_wsp_rows_streamed_total'):,.0f} rows streamed, "
              f"{_metric_total(metrics, 'fp_df_decisions_total'):,.0f} decisions ({outcomes}), "
              f"{_metric_total(metrics, 'fp_agent_errors_total'):,.0f} agent errors")
    finally:
        code = worker.stop()
    print(f"worker stopped cleanly (exit {code})", end="")
    if started_broker:
        embedded_broker(profile).down()
        print("; embedded broker stopped", end="")
    print(f"\ndemo done in {time.monotonic() - t0:.1f}s")
    return 0 if code == 0 and summary.status == "READY" else 1

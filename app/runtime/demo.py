"""The main job behind ``make demo`` (grows with each issue; today: the substrate smoke run).

Starts the embedded broker (unless one is already up), starts a worker, shows that it is
connected, assigned and serving ``/metrics``, then stops both cleanly.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

from app.profiles.loader import Profile
from app.profiles.wiring import TansuBroker
from app.runtime.bus_address import embedded_broker
from app.runtime.supervisor import WorkerProcess

__all__ = ["run_demo"]


def run_demo(profile: Profile, profile_arg: str, *, log_dir: Path) -> int:
    """Run the demo and print a summary; returns the exit code."""
    started_broker = False
    t0 = time.monotonic()
    if isinstance(profile.wiring.broker, TansuBroker):
        broker = embedded_broker(profile)
        started_broker = broker.running() is None
        state = asyncio.run(broker.up(timeout_s=profile.wiring.broker.start_timeout_s))
        print(f"[1/4] embedded broker answering at {state.bootstrap} (pid {state.pid})")
    worker = WorkerProcess(profile_arg, profile.wiring.worker.web_port, log_dir / "worker.log")
    try:
        worker.start()
        health = worker.wait_ready()
        print(f"[2/4] worker {health['app_id']} connected; assigned {len(health['assigned'])} "
              f"partitions; log {worker.log_path}")
        with urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        families = sorted({line.split()[2] for line in metrics.splitlines()
                           if line.startswith("# TYPE fp_")})
        print(f"[3/4] {worker.base_url}/metrics serves {len(families)} platform metric "
              f"families: {', '.join(families)}")
    finally:
        code = worker.stop()
    print(f"[4/4] worker stopped cleanly (exit {code})", end="")
    if started_broker:
        embedded_broker(profile).down()
        print("; embedded broker stopped", end="")
    print(f"\ndemo done in {time.monotonic() - t0:.1f}s")
    return 0 if code == 0 else 1

"""Benchmark plumbing: a private embedded broker, run facts (commit, python), median/spread."""

from __future__ import annotations

import asyncio
import platform
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.eb.embedded_broker import BrokerState, EmbeddedBroker

__all__ = [
    "box_busy_cpu_s", "broker_dir", "embedded_broker", "free_port", "merged", "metric_sum",
    "proc_cpu_s", "proc_memory_mb", "run_facts", "summarize", "write_profile",
]


def run_facts() -> str:
    """One line naming what was measured where: commit, python, cores."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip() or "unknown"
        if subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "app", "world_engine"],
                          capture_output=True, check=False).returncode == 1:
            commit += "+dirty"  # uncommitted edits to the measured code
    except OSError:
        commit = "unknown"
    import os

    return f"commit={commit} python={platform.python_version()} cores={os.cpu_count()}"


def summarize(values: list[float]) -> str:
    """median and spread (min..max) of several rounds."""
    return (f"median={statistics.median(values):,.0f} min={min(values):,.0f} "
            f"max={max(values):,.0f} rounds={len(values)}")


@contextmanager
def embedded_broker() -> Iterator[BrokerState]:
    """A fresh embedded broker for one benchmark run, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="fp-bench-") as tmp:
        broker = EmbeddedBroker(Path(tmp))
        state = asyncio.run(broker.up())
        try:
            yield state
        finally:
            broker.down()


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` applied recursively (dicts merge, anything else replaces)."""
    out = dict(base)
    for key, value in patch.items():
        out[key] = (merged(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


def write_profile(root: Path, broker_state_dir: Path, *, app_id: str, web_port: int,
                  speedup: float = 0.0, partitions: int = 4,
                  policy_patch: dict[str, Any] | None = None,
                  wiring_patch: dict[str, Any] | None = None) -> Path:
    """A local-style profile for a benchmark worker (own folders, topics and group).

    ``policy_patch`` / ``wiring_patch`` are merged in last (e.g. a shared object store, the
    worker's agents, a pinned posture).
    """
    import yaml

    from app.profiles.loader import repo_root

    body = yaml.safe_load((repo_root() / "profiles" / "local.yaml").read_text())
    body["name"] = "bench"
    body["policy"]["streaming"]["speedup"] = speedup
    wiring = body["wiring"]
    wiring["broker"] = {"type": "tansu", "state_dir": str(broker_state_dir)}
    wiring["object_store"] = {"type": "local", "root": str(root / "objects")}
    wiring["oracle_root"] = str(root / "oracle")
    wiring["worker"].update(app_id=app_id, topic_prefix=f"{app_id}.", partitions=partitions,
                            datadir=str(root / "data"), web_port=web_port)
    body["policy"] = merged(body["policy"], policy_patch or {})
    body["wiring"] = merged(wiring, wiring_patch or {})
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"profile-{speedup:g}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def metric_sum(base_url: str, name: str, **labels: str) -> float:
    """Sum of a prometheus metric's samples on ``base_url/metrics`` (optionally label-filtered)."""
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as resp:  # loopback only
        text = resp.read().decode()
    total = 0.0
    for line in text.splitlines():
        if not (line.startswith(name + "{") or line.startswith(name + " ")):
            continue
        head, value = line.rsplit(" ", 1)
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process from ``/proc/<pid>/status``, in MB."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) / 1024  # kB -> MB
    except OSError:
        pass
    return out


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from ``/proc/<pid>/stat``."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def box_busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (every core, all processes), /proc/stat."""
    import os

    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def broker_dir() -> Iterator[tuple[BrokerState, Path]]:
    """Like :func:`embedded_broker`, also yielding the state folder (profiles point at it)."""
    with tempfile.TemporaryDirectory(prefix="fp-bench-") as tmp:
        broker = EmbeddedBroker(Path(tmp))
        state = asyncio.run(broker.up())
        try:
            yield state, Path(tmp)
        finally:
            broker.down()

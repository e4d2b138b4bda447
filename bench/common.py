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

from app.eb.embedded_broker import BrokerState, EmbeddedBroker

__all__ = [
    "broker_dir", "embedded_broker", "free_port", "run_facts", "summarize",
    "write_profile",
]


def run_facts() -> str:
    """One line naming what was measured where: commit, python, cores."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip() or "unknown"
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


def write_profile(root: Path, broker_state_dir: Path, *, app_id: str, web_port: int,
                  speedup: float = 0.0, partitions: int = 4) -> Path:
    """A local-style profile for a benchmark worker (own folders, topics and group)."""
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
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"profile-{speedup:g}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


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

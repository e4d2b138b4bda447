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

__all__ = ["embedded_broker", "run_facts", "summarize"]


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

"""Two Faust workers of one app on the embedded broker: split, crash, take over, restore.

Issue #2: partitions split between two workers; after ``kill -9`` of one the other takes over and
the changelog-backed table's totals stay exact; a worker restarted with an empty datadir restores
the table from its changelog.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from app.eb.embedded_broker import BrokerState
from app.eb.topics import Topic, topic_name
from app.profiles.loader import load_profile
from app.runtime.supervisor import WorkerProcess
from tests.factories import make_envelope, make_pins
from tests.integration.bus_io import produce

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]

PARTITIONS = 4
N_EVENTS = 12_000
RUNS = [make_pins("baseline", "r1"), make_pins("baseline", "r2")]
TYPES = ["auth_request", "clearing"]


def _records() -> tuple[list[tuple[bytes, bytes]], dict[str, dict[str, int]]]:
    records, expected = [], Counter[tuple[str, str]]()
    for i in range(N_EVENTS):
        pins, event_type = RUNS[i % 2], TYPES[(i // 2) % 2]
        env = make_envelope(i, event_type=event_type, pins=pins)
        records.append((env.payload["card_id"].encode(), env.model_dump_json().encode()))
        expected[(pins["run_id"], event_type)] += 1
    nested: dict[str, dict[str, int]] = {}
    for (run, event_type), n in expected.items():
        nested.setdefault(run, {})[event_type] = n
    return records, nested


def _census(workers: list[WorkerProcess]) -> tuple[dict[str, dict[str, int]], list[list[int]]]:
    """Sum the census of every live worker (each serves only its active partitions)."""
    total: dict[str, dict[str, int]] = {}
    owned = []
    for w in workers:
        status, body = w.get("/v1/census")
        if status != 200 or body is None:
            owned.append([])
            continue
        owned.append(body["partitions"])
        for run, types in body["counts"].items():
            for event_type, n in types.items():
                total.setdefault(run, {}).setdefault(event_type, 0)
                total[run][event_type] += n
    return total, owned


def _count(total: dict[str, dict[str, int]]) -> int:
    return sum(n for types in total.values() for n in types.values())


def _wait(predicate: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        ok, last = predicate()
        if ok:
            return last
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}; last seen: {last}")


def test_two_workers_split_fail_over_and_restore_exact_totals(
    spawn_worker: Callable[..., WorkerProcess], embedded_broker: BrokerState
) -> None:
    a = spawn_worker("a", partitions=PARTITIONS)
    a.wait_ready()
    b = spawn_worker("b", partitions=PARTITIONS)
    b.wait_ready()
    workers = [a, b]

    # Partitions split: each worker owns some source partitions, together all, none twice.
    def split() -> tuple[bool, Any]:
        _, owned = _census(workers)
        flat = sorted(p for ps in owned for p in ps)
        return (all(owned) and flat == list(range(PARTITIONS))), owned

    _wait(split, 90, "both workers to own disjoint source partitions")

    records, expected = _records()
    topic = topic_name(Topic.TRAFFIC, load_profile(a.profile).wiring.worker.topic_prefix)
    asyncio.run(produce(embedded_broker.bootstrap, topic, records))

    # Crash worker A mid-stream: some events counted, not all.
    _wait(lambda: ((n := _count(_census(workers)[0])) >= N_EVENTS // 5, n), 120,
          "a fifth of the events to be counted")
    a.kill9()
    assert _count(_census([b])[0]) < N_EVENTS, "stream finished before the crash: not mid-stream"

    # B takes over every partition and the totals end exact (no loss, no double count).
    def b_owns_all_exact() -> tuple[bool, Any]:
        total, owned = _census([b])
        return owned == [list(range(PARTITIONS))] and total == expected, (owned, total)

    _wait(b_owns_all_exact, 180, "worker B to own all partitions with exact totals")
    b.stop()

    # A fresh worker with an EMPTY datadir restores the table from the changelog alone.
    c = spawn_worker("c", partitions=PARTITIONS)
    c.wait_ready()
    _wait(lambda: ((t := _census([c])[0]) == expected, t), 120,
          "worker C to restore exact totals from the changelog")

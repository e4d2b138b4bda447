"""The run sequencer's release order is a function of the partition logs, not of interleaving.

Named predicates (CONVENTIONS "Property tests"): for any set of partition logs in which each
watermark follows the records it covers, every interleaving of the partitions (each kept in its
own order) releases the same sequence; that sequence is sorted by (ts, event_id); an event is
released only once every partition's watermark has passed it; nothing is lost.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.hotpath.sequencer import FINAL_US, RunSequencer

pytestmark = pytest.mark.timeout(120)


@dataclass(frozen=True)
class Ev:
    ts: int
    event_id: str


Record = tuple[str, int, Ev | int]  # ("event" | "wm", partition, event or watermark)


@st.composite
def partition_logs(draw: st.DrawFn) -> list[list[Record]]:
    """Logs as WSP + IG write them: each partition's events in ts order, each watermark at most
    the ts of every later event of the source (so nothing is late), a final mark at the end."""
    partitions = draw(st.integers(1, 4))
    times = sorted(draw(st.lists(st.integers(0, 50), min_size=0, max_size=40)))
    logs: list[list[Record]] = [[] for _ in range(partitions)]
    for i, ts in enumerate(times):
        p = draw(st.integers(0, partitions - 1))
        logs[p].append(("event", p, Ev(ts, f"e{i:03d}")))
        if draw(st.booleans()):  # progress: every later row (any partition) has ts >= ts
            q = draw(st.integers(0, partitions - 1))
            logs[q].append(("wm", q, ts))
    for p in range(partitions):
        logs[p].append(("wm", p, FINAL_US))
    return logs


def run(logs: list[list[Record]], seed: int) -> list[tuple[Ev, bool]]:
    """Feed the logs in one random interleaving (each partition in order)."""
    rng = random.Random(seed)
    seq: RunSequencer[Ev] = RunSequencer()
    cursors = [0] * len(logs)
    out: list[tuple[Ev, bool]] = []
    while any(c < len(log) for c, log in zip(cursors, logs, strict=True)):
        p = rng.choice([i for i, log in enumerate(logs) if cursors[i] < len(log)])
        kind, partition, item = logs[p][cursors[p]]
        cursors[p] += 1
        if kind == "event":
            assert isinstance(item, Ev)
            released = seq.offer_event(partition, item.ts, item.event_id, "auth_request", item)
        else:
            assert isinstance(item, int)
            released = seq.offer_watermark(partition, len(logs), item)
        out.extend((r.item, r.late) for r in released)
    return out


def releases_do_not_depend_on_interleaving(logs: list[list[Record]]) -> bool:
    return len({tuple(run(logs, seed)) for seed in range(5)}) == 1


def releases_are_sorted_and_complete(logs: list[list[Record]]) -> bool:
    released = [ev for ev, _ in run(logs, 0)]
    fed = [item for log in logs for kind, _, item in log if kind == "event"]
    return (released == sorted(fed, key=lambda e: (e.ts, e.event_id))  # type: ignore[union-attr]
            and len(released) == len(fed))


@settings(max_examples=200, deadline=None)
@given(partition_logs())
def test_release_order_is_a_function_of_the_logs(logs: list[list[Record]]) -> None:
    assert releases_do_not_depend_on_interleaving(logs)
    assert releases_are_sorted_and_complete(logs)


def test_an_event_waits_for_every_partition() -> None:
    seq: RunSequencer[str] = RunSequencer()
    assert seq.offer_event(0, 10, "a", "auth_request", "a") == []
    assert seq.offer_watermark(0, 2, 20) == []  # partition 1 not heard from
    released = seq.offer_watermark(1, 2, 11)
    assert [r.item for r in released] == ["a"] and seq.pending == 0


def test_a_late_event_is_applied_at_its_partitions_watermark_and_flagged() -> None:
    seq: RunSequencer[str] = RunSequencer()
    seq.offer_watermark(0, 2, 100)
    assert seq.offer_event(0, 50, "late", "auth_request", "late") == []  # behind 100
    assert seq.offer_event(1, 60, "b", "auth_request", "b") == []
    assert [(r.item, r.late) for r in seq.offer_watermark(1, 2, 200)] == [("b", False)]
    # its key is 100 (where partition 0's log put it): released once the run passes 100
    assert [(r.item, r.late) for r in seq.offer_watermark(0, 2, 150)] == [("late", True)]
    assert seq.late_events == 1


def test_after_every_partition_is_final_a_late_event_is_released_at_once() -> None:
    seq: RunSequencer[str] = RunSequencer()
    seq.offer_watermark(0, 1, FINAL_US)
    released = seq.offer_event(0, 5, "x", "auth_request", "x")
    assert [(r.item, r.late) for r in released] == [("x", True)]


def test_same_time_events_release_in_event_id_order() -> None:
    seq: RunSequencer[str] = RunSequencer()
    seq.offer_event(0, 7, "b", "auth_request", "b")
    seq.offer_event(0, 7, "a", "auth_request", "a")
    assert [r.item for r in seq.offer_watermark(0, 1, 8)] == ["a", "b"]

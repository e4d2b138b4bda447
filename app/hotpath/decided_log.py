"""What the hot path already decided, read back from ``fp.bus.rtdl.v1``.

A decision is published to the rtdl partition numbered like its trigger's traffic partition, so
AL and DLA, which follow the rtdl partitions, share a run's work across workers (issue #13)
while one worker folds the run. After a crash or a rebalance the new owner of a seq partition
reads every rtdl partition to learn which triggers already have their decision (keyed by the
trigger's traffic position, which belongs to exactly one run): those are folded in without a
second decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import orjson

from app.eb.partition_reader import read_partition
from app.rails.decision import DecisionOutcome

__all__ = ["scan_decided"]


async def scan_decided(bootstrap: list[str], rtdl_topic: str, traffic_topic: str,
                       partitions: Sequence[int]) -> dict[tuple[int, int], DecisionOutcome]:
    """Trigger (traffic partition, offset) -> outcome for every decision on the rtdl
    ``partitions`` (the hot path passes all of them)."""
    decided: dict[tuple[int, int], DecisionOutcome] = {}
    logs = await asyncio.gather(*(read_partition(bootstrap, rtdl_topic, p) for p in partitions))
    for record in (r for log in logs for r in log):
        try:
            body = orjson.loads(record.value or b"")
        except orjson.JSONDecodeError:
            continue  # not ours to judge here; rtdl consumers report it
        if not isinstance(body, dict) or body.get("record_type") != "decision":
            continue
        ref = body.get("trigger", {}).get("eb_ref", {})
        if ref.get("topic") == traffic_topic:
            decided[(int(ref["partition"]), int(ref["offset"]))] = DecisionOutcome(
                body["outcome"])
    return decided

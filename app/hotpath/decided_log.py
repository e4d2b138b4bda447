"""What the hot path already decided on a seq partition, read back from ``fp.bus.rtdl.v1``.

Decisions are published to the rtdl partition numbered like the ``fp.hotpath.seq.v2`` partition
whose runs they belong to, so one rtdl partition answers for the runs of one seq partition.
After a crash or a rebalance the new owner reads it to learn which triggers already have their
decision: those are folded in without a second decision.
"""

from __future__ import annotations

import orjson

from app.eb.partition_reader import read_partition
from app.rails.decision import DecisionOutcome

__all__ = ["scan_decided"]


async def scan_decided(bootstrap: list[str], rtdl_topic: str, traffic_topic: str,
                       partition: int) -> dict[tuple[int, int], DecisionOutcome]:
    """Trigger (traffic partition, offset) -> outcome for every decision on rtdl ``partition``."""
    decided: dict[tuple[int, int], DecisionOutcome] = {}
    for record in await read_partition(bootstrap, rtdl_topic, partition):
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

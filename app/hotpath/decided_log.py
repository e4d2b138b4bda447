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
from collections.abc import Iterable, Sequence

import orjson

from app.eb.partition_reader import read_partition
from app.rails.decision import DecisionOutcome
from app.rails.partition_key import kafka_partition

__all__ = ["decided_of", "scan_decided"]


async def scan_decided(bootstrap: list[str], rtdl_topic: str, traffic_topic: str,
                       partitions: Sequence[int], *, seq_partition: int | None = None,
                       seq_partitions: int = 1) -> dict[tuple[int, int], DecisionOutcome]:
    """Trigger (traffic partition, offset) -> outcome for every decision on the rtdl
    ``partitions`` (the hot path passes all of them). With ``seq_partition``, only decisions of
    runs that stage 1 keys onto it (Kafka's default partitioner over ``seq_partitions``): the
    lane pops its own entries as it folds them, so another lane's would never leave memory."""
    logs = await asyncio.gather(*(read_partition(bootstrap, rtdl_topic, p) for p in partitions))
    return decided_of((r.value or b"" for log in logs for r in log), traffic_topic,
                      seq_partition=seq_partition, seq_partitions=seq_partitions)


def decided_of(values: Iterable[bytes], traffic_topic: str, *, seq_partition: int | None = None,
               seq_partitions: int = 1) -> dict[tuple[int, int], DecisionOutcome]:
    """:func:`scan_decided` over record values already read (pure)."""
    decided: dict[tuple[int, int], DecisionOutcome] = {}
    for value in values:
        try:
            body = orjson.loads(value)
        except orjson.JSONDecodeError:
            continue  # not ours to judge here; rtdl consumers report it
        if not isinstance(body, dict) or body.get("record_type") != "decision":
            continue
        run_id = str(body.get("pins", {}).get("run_id", ""))
        if (seq_partition is not None
                and kafka_partition(run_id.encode(), seq_partitions) != seq_partition):
            continue
        ref = body.get("trigger", {}).get("eb_ref", {})
        if ref.get("topic") == traffic_topic:
            decided[(int(ref["partition"]), int(ref["offset"]))] = DecisionOutcome(
                body["outcome"])
    return decided

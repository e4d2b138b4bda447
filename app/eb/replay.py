"""Replay by offsets: move a consumer group's committed offsets (DESIGN.md section 5).

Replay = reset a group's offsets (or start a new group) and reprocess. Tansu supports neither
OffsetDelete nor DeleteRecords, and it refuses offset commits from outside the group
(UnknownMemberId), so replay *joins* the group, waits for the assignment and commits as a member;
it works the same on Kafka/Redpanda. The group's workers must be stopped first: a live member
would share the partitions and overwrite the commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.structs import OffsetAndMetadata

from app.eb.tansu_compat import fetch_high_watermarks

__all__ = ["committed_offsets", "reset_group_offsets"]

_JOIN_TIMEOUT_S = 60.0


class _FaustNamedAssignor(RoundRobinPartitionAssignor):
    """Round robin under faust's protocol name.

    Tansu keeps an empty group's protocol and refuses a member that speaks another one
    (InconsistentGroupProtocol); the replaying consumer is the only member while the workers are
    stopped, so only the name has to match.
    """

    name = "faust"


async def reset_group_offsets(bootstrap_servers: list[str], group: str, topic: str,
                              partitions: int, *,
                              to_offset: int | Mapping[int, int] | None = None
                              ) -> dict[int, int]:
    """Commit ``to_offset`` (one for all partitions, or per partition; clamped to each log end)
    or 0 for every partition (a partition missing from a mapping gets 0).

    Returns the committed offset per partition.
    """
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group,
                                enable_auto_commit=False, session_timeout_ms=10_000,
                                auto_offset_reset="earliest",
                                partition_assignment_strategy=(_FaustNamedAssignor,
                                                               RoundRobinPartitionAssignor))
    await consumer.start()
    try:
        consumer.subscribe([topic])
        async with asyncio.timeout(_JOIN_TIMEOUT_S):
            while set(consumer.assignment()) != set(tps):
                await consumer.getmany(timeout_ms=200, max_records=1)
        ends = await fetch_high_watermarks(bootstrap_servers, await consumer.end_offsets(tps))
        wanted = (to_offset if isinstance(to_offset, Mapping)
                  else dict.fromkeys(range(partitions), to_offset or 0))
        target = {tp: min(wanted.get(tp.partition, 0), ends[tp]) for tp in tps}
        await consumer.commit({tp: OffsetAndMetadata(off, "fp replay") for tp, off in
                               target.items()})
    finally:
        await consumer.stop()
    return {tp.partition: off for tp, off in target.items()}


async def committed_offsets(bootstrap_servers: list[str], group: str, topic: str,
                            partitions: int) -> dict[int, int | None]:
    """The group's committed offset per partition (None: nothing committed)."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        return {tp.partition: await consumer.committed(tp) for tp in tps}
    finally:
        await consumer.stop()

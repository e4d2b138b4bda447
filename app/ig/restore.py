"""Restore IG's output logs from the archive when the bus lost them (a wiped or new broker).

IG is the only writer of the traffic and label logs, and it archives every admission before
its receipt (``app.ig.archive``), so for each partition the archive holds at least what the bus
ever held. When IG takes an ingress partition and finds a target partition's log end *behind*
the archive's end (the embedded broker keeps topics in memory; a recreated topic starts at 0),
it republishes the missing records in their original offset order, to the same partition, with
the same key, value and ingress header. On an empty log that puts every record back at its
original offset, so everything derived from the log (decisions, their provenance, snapshot
hashes) comes out identical; a record whose new offset differs is counted as shifted and logged
(only possible if an archived record was lost, which the write order makes a double failure).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.structs import RecordMetadata

from app.eb.partition_reader import log_ends
from app.ig.archive import read_from
from app.ig.errors import ArchiveCorruptError
from app.ig.reconcile import INGRESS_HEADER
from app.objectstore.base import ObjectStore
from app.rails.archive import ArchivedRecord, ArchiveStream
from app.rails.canonical_json import canonical_dumps
from app.rails.envelope import CanonicalEnvelope, parse_envelope
from app.rails.receipts import EbRef

__all__ = ["Publish", "Restored", "archived_value", "restore_partition"]

Publish = Callable[[str, bytes, bytes, dict[str, bytes], int], Awaitable[Awaitable[RecordMetadata]]]
"""(topic, key, value, headers, partition) -> awaitable of the broker's ack."""


@dataclass(frozen=True)
class Restored:
    """One archived record back on the bus."""

    record: ArchivedRecord
    envelope: CanonicalEnvelope
    eb_ref: EbRef

    @property
    def shifted(self) -> bool:
        """It did not land at its original offset (an archive gap before it)."""
        return self.eb_ref.offset != self.record.offset


def archived_value(record: ArchivedRecord) -> tuple[bytes, CanonicalEnvelope]:
    """The bytes IG published for ``record`` and their envelope (checked: the archive is input).

    Raises:
        ArchiveCorruptError: the archived record is no longer a valid envelope.
    """
    value = canonical_dumps(record.record)
    envelope = parse_envelope(value, max_bytes=max(len(value), 1))
    if not isinstance(envelope, CanonicalEnvelope):
        raise ArchiveCorruptError(record.stream, record.partition, record.offset,
                                  f"{envelope.reason_code}: {envelope.detail}")
    return value, envelope


async def restore_partition(store: ObjectStore, servers: list[str],
                            topics: Mapping[ArchiveStream, str], partition: int,
                            publish: Publish) -> list[Restored]:
    """Republish what ``partition`` of each stream's topic lacks compared with the archive.

    Returns the restored records in publish order (empty when the bus is whole: the usual case,
    which costs one log-end probe and one archive listing).
    """
    tps = {stream: TopicPartition(topic, partition) for stream, topic in topics.items()}
    ends = await log_ends(servers, list(tps.values()))
    restored: list[Restored] = []
    for stream, tp in tps.items():
        records = await read_from(store, stream, partition, ends[tp])
        if not records:
            continue
        pending = []
        for record in records:
            value, envelope = archived_value(record)
            headers = {INGRESS_HEADER: str(record.ingress_partition).encode()}
            ack = await publish(tp.topic, record.partition_key.encode(), value, headers, partition)
            pending.append((record, envelope, ack))
        metas = await asyncio.gather(*(ack for _, _, ack in pending))  # raises: fail-stop
        restored.extend(
            Restored(record, envelope, EbRef(topic=m.topic, partition=m.partition, offset=m.offset))
            for (record, envelope, _), m in zip(pending, metas, strict=True))
    return restored

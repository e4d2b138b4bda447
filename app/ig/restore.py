"""Take a partition on a bus generation: restore what a lost bus took with it, from the archive.

IG is the only writer of the traffic and label logs and archives every admission before its
receipt (``app.ig.archive``), so the archive of a bus generation is a complete copy of those
logs. When IG takes an ingress partition it compares the bus it is on with the newest generation
the partition was taken on (``ig/generations/``):

- **The same generation**: the logs should hold everything archived. A log that ends behind the
  archive lost its tail (a Kafka topic deleted and recreated): the missing records are
  republished, in order.
- **A new generation** (a new embedded broker instance: its logs start empty) whose predecessor
  still carried a run in flight (one the main job has not recorded as drained in SR's ledger):
  the predecessor's records of the partition, every run's, are republished in their original
  order to the same partition, so on the empty log each lands at its original offset and
  everything derived from the log (decisions, snapshots, provenance) comes out the same; they are
  archived again under the new generation, which makes it self-contained. A predecessor whose
  runs had all drained (say the previous ``fp demo``'s) is left behind: a new bus for new runs.
- Then the new generation's head is written; nothing new is admitted on the partition before.

A record that lands at another offset than the archive says (only possible after a double
failure left a gap in the archive) is counted as shifted and archived where it now is.
Watermark records (``kind: "watermark"``) are republished like envelopes, with the headers IG
gave them, so every later offset stays where it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.structs import RecordMetadata

from app.ig.archive import GenerationHead, read_from, read_heads, write_archive, write_head
from app.ig.errors import ArchiveCorruptError
from app.ig.reconcile import INGRESS_HEADER
from app.objectstore.base import ObjectStore
from app.rails.archive import ArchivedRecord, ArchiveStream
from app.rails.canonical_json import canonical_dumps
from app.rails.envelope import CanonicalEnvelope, parse_envelope
from app.rails.receipts import EbRef
from app.rails.watermark import WATERMARK_HEADER

__all__ = ["LogEnds", "Publish", "RestoreResult", "Restored", "RunIsOpen", "archived_headers",
           "archived_value", "take_partition"]

Publish = Callable[[str, bytes, bytes, dict[str, bytes], int], Awaitable[Awaitable[RecordMetadata]]]
"""(topic, key, value, headers, partition) -> awaitable of the broker's ack."""
LogEnds = Callable[[list[TopicPartition]], Awaitable[dict[TopicPartition, int]]]
"""The true log end offset of each partition (``app.eb.partition_reader.log_ends``)."""
RunIsOpen = Callable[[str], Awaitable[bool]]
"""run_id -> whether the run may still be in flight (not recorded as drained)."""


@dataclass(frozen=True)
class Restored:
    """One archived record back on the bus."""

    record: ArchivedRecord
    envelope: CanonicalEnvelope | None
    """None for a watermark record."""
    eb_ref: EbRef

    @property
    def shifted(self) -> bool:
        """It did not land at its original offset (an archive gap before it)."""
        return self.eb_ref.offset != self.record.offset


@dataclass(frozen=True)
class RestoreResult:
    """What taking the partition did: the records republished, and the head written (if new)."""

    restored: list[Restored]
    head: GenerationHead | None
    source: str | None  # the generation restored from


def archived_value(record: ArchivedRecord) -> tuple[bytes, CanonicalEnvelope]:
    """The bytes IG published for an envelope ``record`` and their envelope (checked: the
    archive is input).

    Raises:
        ArchiveCorruptError: the archived record is no longer a valid envelope.
    """
    value = canonical_dumps(record.record)
    envelope = parse_envelope(value, max_bytes=max(len(value), 1))
    if not isinstance(envelope, CanonicalEnvelope):
        raise ArchiveCorruptError(record.stream, record.partition, record.offset,
                                  f"{envelope.reason_code}: {envelope.detail}")
    return value, envelope


def archived_headers(record: ArchivedRecord) -> dict[str, bytes]:
    """The headers IG published ``record`` with (a watermark's mark, the ingress partition)."""
    headers = {INGRESS_HEADER: str(record.ingress_partition).encode()}
    if record.is_watermark:
        headers = {WATERMARK_HEADER: b"1", **headers}
    return headers


def _published(record: ArchivedRecord) -> tuple[bytes, CanonicalEnvelope | None]:
    if record.is_watermark:  # validated as a TrafficWatermark when the line was read
        return canonical_dumps(record.record), None
    return archived_value(record)


async def _republish(records: list[ArchivedRecord], topic: str, partition: int,
                     publish: Publish) -> list[Restored]:
    pending = []
    for record in records:
        value, envelope = _published(record)
        ack = await publish(topic, record.partition_key.encode(), value,
                            archived_headers(record), partition)
        pending.append((record, envelope, ack))
    metas = await asyncio.gather(*(ack for _, _, ack in pending))  # raises: fail-stop
    return [Restored(record, envelope, EbRef(topic=m.topic, partition=m.partition,
                                             offset=m.offset))
            for (record, envelope, _), m in zip(pending, metas, strict=True)]


async def take_partition(store: ObjectStore, topics: Mapping[ArchiveStream, str],
                         partition: int, generation: str, *, log_ends: LogEnds,
                         publish: Publish, run_is_open: RunIsOpen,
                         known_ends: Mapping[TopicPartition, int]) -> RestoreResult:
    """Bring ``partition`` of each stream's topic up to date with the archive (see the module).

    Args:
        known_ends: how far IG knows each log reached (its reconcile checkpoint): on the same
            generation only a log that ends before that is read against the archive, so a
            restart costs one log-end probe, not an archive listing.
    """
    heads = await read_heads(store, partition)
    latest = heads[-1] if heads else None
    tps = {stream: TopicPartition(topic, partition) for stream, topic in topics.items()}
    ends = await log_ends(list(tps.values()))
    restored: list[Restored] = []
    if latest is not None and latest.generation == generation:
        for stream, tp in tps.items():
            if ends[tp] >= known_ends.get(tp, 0):
                continue
            tail = await read_from(store, stream, partition, generation, ends[tp])
            restored += await _republish(tail, tp.topic, partition, publish)
        return RestoreResult(restored, None, generation if restored else None)
    runs: tuple[str, ...] = ()
    if latest is not None:
        previous = {s: await read_from(store, s, partition, latest.generation) for s in tps}
        every_run = sorted({r.run_id for records in previous.values() for r in records})
        if any([await run_is_open(run_id) for run_id in every_run]):
            runs = tuple(every_run)
            for stream, tp in tps.items():
                # Records below the log end are there from an earlier, interrupted restore.
                kept = [r for r in previous[stream] if r.offset < ends[tp]]
                back = await _republish([r for r in previous[stream] if r.offset >= ends[tp]],
                                        tp.topic, partition, publish)
                await write_archive(store, generation, kept + [
                    r.record.model_copy(update={"offset": r.eb_ref.offset}) for r in back])
                restored += back
    head = GenerationHead(partition=partition, seq=latest.seq + 1 if latest else 0,
                          generation=generation,
                          previous=latest.generation if latest else None,
                          restored=len(restored), runs_restored=runs)
    await write_head(store, head)
    return RestoreResult(restored, head, latest.generation if runs and latest else None)

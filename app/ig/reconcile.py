"""Re-learn admissions whose dedupe entry a crash lost, from the bus itself.

IG publishes first and records the dedupe entry after the broker's ack; a ``kill -9`` between
the two would let a redelivered submission be published twice. Every admitted record carries the
header ``fp-ingress: <ingress partition>``, and IG keeps, per ingress partition, a checkpoint of
the target offsets below which every admission is already recorded. Before an ingress partition
is processed after an (re)assignment, :func:`scan_admitted` reads the traffic and label topics
from that checkpoint to the log end and returns the admissions of that ingress partition, which
the agent records before it admits anything new, together with the ADMIT receipt the crash may
have lost (receipt ids are deterministic: a receipt written twice is one receipt).
Bounded: only records after the checkpoint.

IG's watermark records (``fp-watermark`` header, issue #12) carry the same ingress header: the
scan returns those of its ingress partition too, so the agent archives any that a crash left
out of the archive (a restore must put them back at their offsets).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks
from app.ig.admission import DedupeEntry
from app.rails.dedupe_key import dedupe_key
from app.rails.envelope import CanonicalEnvelope, parse_envelope, payload_hash
from app.rails.receipts import EbRef
from app.rails.watermark import WATERMARK_HEADER

__all__ = ["INGRESS_HEADER", "ScanResult", "scan_admitted", "sort_scanned", "tp_key"]

INGRESS_HEADER = "fp-ingress"
_SCAN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ScanResult:
    """Admissions found for one ingress partition, and the offsets the scan reached."""

    entries: dict[bytes, tuple[DedupeEntry, CanonicalEnvelope]]
    ends: dict[str, int]  # "topic|partition" -> next offset
    watermarks: list[tuple[EbRef, bytes, bytes]] = field(default_factory=list)
    """Watermark records of the ingress partition: (position, key, value), in log order."""


def tp_key(topic: str, partition: int) -> str:
    return f"{topic}|{partition}"


async def scan_admitted(bootstrap_servers: list[str], starts: Mapping[TopicPartition, int],
                        ingress_partition: int) -> ScanResult:
    """Admissions of ``ingress_partition`` in the target partitions from ``starts`` to the end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                group_id=None, max_poll_records=5000)
    await consumer.start()
    entries: dict[bytes, tuple[DedupeEntry, CanonicalEnvelope]] = {}
    watermarks: list[tuple[EbRef, bytes, bytes]] = []
    try:
        tps = list(starts)
        consumer.assign(tps)
        ends = await fetch_high_watermarks(bootstrap_servers, await consumer.end_offsets(tps))
        todo = {tp for tp in tps if ends[tp] > starts[tp]}
        for tp in todo:
            consumer.seek(tp, starts[tp])
        wanted = str(ingress_partition).encode()
        async with asyncio.timeout(_SCAN_TIMEOUT_S):
            while todo:
                batches = await consumer.getmany(*todo, timeout_ms=500)
                for tp, records in batches.items():
                    for r in records:
                        sort_scanned(entries, watermarks, tp, r, wanted)
                    if records and records[-1].offset + 1 >= ends[tp]:
                        todo.discard(tp)
    finally:
        await consumer.stop()
    return ScanResult(entries, {tp_key(tp.topic, tp.partition): ends[tp] for tp in ends},
                      watermarks)


def sort_scanned(entries: dict[bytes, tuple[DedupeEntry, CanonicalEnvelope]],
                 watermarks: list[tuple[EbRef, bytes, bytes]], tp: TopicPartition,
                 record: Any, wanted: bytes) -> None:
    """File one consumed record of ``tp`` if it is ingress partition ``wanted``'s: a watermark
    record (by its header) with the watermarks, an admitted envelope with the entries."""
    headers = dict(record.headers or ())
    if headers.get(INGRESS_HEADER) != wanted or not record.value:
        return
    ref = EbRef(topic=tp.topic, partition=tp.partition, offset=record.offset)
    if WATERMARK_HEADER in headers:
        watermarks.append((ref, record.key or b"", record.value))
    else:
        _learn(entries, record.value, ref)


def _learn(entries: dict[bytes, tuple[DedupeEntry, CanonicalEnvelope]], value: bytes,
           ref: EbRef) -> None:
    env = parse_envelope(value)
    if isinstance(env, CanonicalEnvelope):
        key = dedupe_key(env.run_id, env.event_type, env.event_id)
        entries.setdefault(key, (DedupeEntry(payload_hash=payload_hash(env), eb_ref=ref), env))

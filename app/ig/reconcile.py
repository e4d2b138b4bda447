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
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks
from app.ig.admission import DedupeEntry
from app.rails.dedupe_key import dedupe_key
from app.rails.envelope import CanonicalEnvelope, parse_envelope, payload_hash
from app.rails.receipts import EbRef

__all__ = ["INGRESS_HEADER", "ScanResult", "scan_admitted", "tp_key"]

INGRESS_HEADER = "fp-ingress"
_SCAN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ScanResult:
    """Admissions found for one ingress partition, and the offsets the scan reached."""

    entries: dict[bytes, tuple[DedupeEntry, CanonicalEnvelope]]
    ends: dict[str, int]  # "topic|partition" -> next offset


def tp_key(topic: str, partition: int) -> str:
    return f"{topic}|{partition}"


async def scan_admitted(bootstrap_servers: list[str], starts: Mapping[TopicPartition, int],
                        ingress_partition: int) -> ScanResult:
    """Admissions of ``ingress_partition`` in the target partitions from ``starts`` to the end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                group_id=None, max_poll_records=5000)
    await consumer.start()
    entries: dict[bytes, tuple[DedupeEntry, CanonicalEnvelope]] = {}
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
                        if dict(r.headers).get(INGRESS_HEADER) == wanted and r.value:
                            _learn(entries, r.value, EbRef(topic=tp.topic, partition=tp.partition,
                                                           offset=r.offset))
                    if records and records[-1].offset + 1 >= ends[tp]:
                        todo.discard(tp)
    finally:
        await consumer.stop()
    return ScanResult(entries, {tp_key(tp.topic, tp.partition): ends[tp] for tp in ends})


def _learn(entries: dict[bytes, tuple[DedupeEntry, CanonicalEnvelope]], value: bytes,
           ref: EbRef) -> None:
    env = parse_envelope(value)
    if isinstance(env, CanonicalEnvelope):
        key = dedupe_key(env.run_id, env.event_type, env.event_id)
        entries.setdefault(key, (DedupeEntry(payload_hash=payload_hash(env), eb_ref=ref), env))

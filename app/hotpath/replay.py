"""Offline replay of the hot path: traffic log -> decisions, in a fresh consumer group.

Replay determinism (DESIGN section 10): the same input offsets with the same pinned posture and
bundle give byte-identical decisions. This module consumes the traffic topic from the beginning
in a new consumer group (committing as it goes, like any consumer), drives the very same
``HotPath`` the worker runs (one event-time fold per run over all partitions), and returns the
canonical decision bytes in their triggers' (partition, offset) order. :func:`stream_digest`
digests such a list; :func:`decision_stream` extracts the same list from records read back from
``fp.bus.rtdl.v1``, so the two can be compared.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks
from app.eb.topics import Topic, topic_name
from app.hotpath.bundle_resolution import resolve_active
from app.hotpath.engine import DecisionContext, HotPath
from app.hotpath.traffic import DeclaredOf
from app.ig.run_directory import RunDirectory
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile
from app.rails.canonical_json import canonical_dumps, sha256_hex
from app.rails.payloads.declared import DeclaredContract
from app.rails.posture import Posture
from app.rails.receipts import EbRef
from app.rails.watermark import is_watermark_record
from app.registry.store import RegistryStore
from app.runtime.bus_address import bootstrap_servers
from app.runtime.degrade_monitor import pinned_context

__all__ = ["ReplayResult", "decision_stream", "replay_profile", "stream_digest"]


@dataclass(frozen=True)
class ReplayResult:
    decisions: list[bytes]
    events: int
    anomalies: int


async def _consume_all(bootstrap: list[str], topic: str, partitions: int, group_id: str,
                       timeout_s: float) -> dict[int, list[ConsumerRecord[bytes, bytes]]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group_id,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                session_timeout_ms=10_000, heartbeat_interval_ms=1_000)
    await consumer.start()
    by_partition: dict[int, list[ConsumerRecord[bytes, bytes]]] = {p: [] for p in
                                                                   range(partitions)}
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await fetch_high_watermarks(bootstrap, await consumer.end_offsets(tps))
        async with asyncio.timeout(timeout_s):
            while any(len(by_partition[tp.partition]) < ends[tp] for tp in tps):
                batch = await consumer.getmany(timeout_ms=500)
                for tp, records in batch.items():
                    by_partition[tp.partition].extend(r for r in records if r.offset < ends[tp])
                if batch:
                    await consumer.commit()
    finally:
        await consumer.stop()
    return by_partition


_CHUNK = 500


def _replay_records(by_partition: dict[int, list[ConsumerRecord[bytes, bytes]]], topic: str,
                    engine: HotPath, context: DecisionContext,
                    run_known: Callable[[str], bool],
                    declared_of: DeclaredOf | None = None) -> ReplayResult:
    """Feed the partitions to the fold round-robin, ``_CHUNK`` records at a time (any
    interleaving gives the same decisions; this one keeps the fold's buffer small)."""
    keyed: list[tuple[int, int, bytes]] = []
    events = anomalies = 0
    cursors = dict.fromkeys(sorted(by_partition), 0)
    while cursors:
        for partition in list(cursors):
            records = by_partition[partition]
            start = cursors[partition]
            for record in records[start:start + _CHUNK]:
                ref = EbRef(topic=topic, partition=partition, offset=record.offset)
                watermark = is_watermark_record(record.headers)
                events += not watermark
                for result in engine.offer(record.value or b"", ref, context,
                                           run_known=run_known, watermark=watermark,
                                           declared_of=declared_of):
                    anomalies += result.anomaly is not None
                    if result.decision is not None:
                        trigger = result.decision.trigger.eb_ref
                        keyed.append((trigger.partition, trigger.offset, canonical_dumps(
                            result.decision.model_dump(mode="json"))))
            cursors[partition] = start + _CHUNK
            if cursors[partition] >= len(records):
                del cursors[partition]
    keyed.sort(key=lambda item: item[:2])
    return ReplayResult(decisions=[d for _, _, d in keyed], events=events, anomalies=anomalies)


def decision_stream(values: Iterable[bytes]) -> list[bytes]:
    """Decision records among rtdl values, ordered by their trigger's (partition, offset)."""
    keyed: list[tuple[int, int, bytes]] = []
    for value in values:
        body = orjson.loads(value)
        if isinstance(body, dict) and body.get("record_type") == "decision":
            ref = body["trigger"]["eb_ref"]
            keyed.append((ref["partition"], ref["offset"], value))
    keyed.sort(key=lambda item: item[:2])
    return [value for _, _, value in keyed]


def stream_digest(decisions: Iterable[bytes]) -> str:
    """sha256 over the ordered decision records (length-prefixed, so boundaries count)."""
    return sha256_hex(b"".join(len(d).to_bytes(4, "big") + d for d in decisions))


async def replay_profile(profile: Profile, *, group_id: str, posture: Posture,
                         timeout_s: float = 600.0) -> ReplayResult:
    """Decisions the hot path makes over the whole traffic log, read in group ``group_id``,
    with the profile's policy and ACTIVE bundle, SR's ledger for run checks, and ``posture``
    pinned."""
    async with open_object_store(profile.wiring.object_store,
                                 base_dir=profile.base_dir) as store:
        resolution = await resolve_active(RegistryStore(store), profile.policy.decision)
        directory = RunDirectory(store, now=time.monotonic)
        traffic = topic_name(Topic.TRAFFIC, profile.wiring.worker.topic_prefix)
        partitions = profile.wiring.worker.partitions
        servers = bootstrap_servers(profile)
        by_partition = await _consume_all(servers, traffic, partitions, group_id, timeout_s)
        run_ids = {orjson.loads(r.value or b"{}").get("run_id") for records in
                   by_partition.values() for r in records if r.value}
        await directory.refresh(r for r in run_ids if isinstance(r, str))
        pinned, reasons = pinned_context(posture)
        context = DecisionContext(posture=pinned, posture_reasons=reasons,
                                  resolution=resolution)

        def run_known(run_id: str) -> bool:
            state = directory.get(run_id)
            return state is not None and state.status == "READY"

        def declared_of(run_id: str) -> Mapping[tuple[str, str], DeclaredContract]:
            state = directory.get(run_id)
            return {} if state is None else state.declared

        engine = HotPath(profile.policy.decision, profile.policy_rev)
        return _replay_records(by_partition, traffic, engine, context, run_known, declared_of)

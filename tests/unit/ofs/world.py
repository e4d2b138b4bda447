"""A small traffic log of two runs over several partitions, decided "online" by one HotPath,
so the offline rebuild can be checked against decisions the real fold made."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.hotpath.engine import DecisionContext, HotPath
from app.ofs.rebuild import DEFAULT_TOPIC, TrafficRecord
from app.profiles.loader import load_profile
from app.rails.canonical_json import canonical_dumps
from app.rails.envelope import dump_envelope
from app.rails.posture import Posture
from app.rails.receipts import EbRef
from app.rails.timefmt import ts_to_epoch_micros
from app.rails.watermark import END_MICROS, WATERMARK_HEADER, watermark_at, watermark_value
from app.registry.resolver import Resolution, bootstrap_pair
from tests.factories import make_envelope, make_payload, make_pins

PROFILE = load_profile("local")
PINS = make_pins()
OTHER_PINS = make_pins(request="run-2")
RUN, OTHER_RUN = PINS["run_id"], OTHER_PINS["run_id"]
_KINDS = ("auth_request", "auth_request", "clearing", "auth_request", "refund")


def context(posture: Posture) -> DecisionContext:
    ref, bundle = bootstrap_pair()
    return DecisionContext(posture=posture, posture_reasons=(),
                           resolution=Resolution(bundle=bundle, ref=ref, reason_codes=()))


def _writes(pins: dict[str, Any], events: int, partitions: int,
            late: Iterable[int] = ()) -> list[tuple[int, bytes, bool]]:
    """What IG writes for one run, in write order: each event into its card's partition, then
    that partition's watermark at the event's time (WSP's progress), then final markers.
    After each event index in ``late``, an authorisation 30 s older follows in its partition
    (behind the watermark just written: a late trigger)."""
    out: list[tuple[int, bytes, bool]] = []
    late_after = set(late)
    for i in range(events):
        kind = _KINDS[i % len(_KINDS)]
        envelope = make_envelope(i, event_type=kind, pins=pins, payload=make_payload(kind, i))
        partition = (i % 97) % partitions
        out.append((partition, dump_envelope(envelope), False))
        mark = watermark_at(pins["run_id"], partition, partitions,
                            ts_to_epoch_micros(envelope.ts_utc))
        out.append((partition, watermark_value(mark), True))
        if i in late_after:
            stale = make_envelope(i - 30, pins=pins, payload=make_payload("auth_request", i))
            stale = stale.model_copy(update={"event_id": make_envelope(
                50_000 + i, pins=pins).event_id})
            out.append((partition, dump_envelope(stale), False))
    out.extend((p, watermark_value(watermark_at(pins["run_id"], p, partitions, END_MICROS)), True)
               for p in range(partitions))
    return out


def traffic_log(events: int = 240, partitions: int = 3,
                late: Iterable[int] = ()) -> list[TrafficRecord]:
    """Both runs' records in the order they were written (runs alternate), with offsets."""
    ours = _writes(PINS, events, partitions, late)
    theirs = _writes(OTHER_PINS, events // 2, partitions)
    merged = [w for pair in zip(ours, theirs, strict=False) for w in pair]
    merged += ours[len(theirs):]
    offsets = dict.fromkeys(range(partitions), 0)
    log: list[TrafficRecord] = []
    for partition, value, watermark in merged:
        log.append(TrafficRecord(partition, offsets[partition], value, watermark))
        offsets[partition] += 1
    return log


@dataclass
class Online:
    """Decisions one HotPath made over a log, as the rtdl topic holds them (JSON values)."""

    rtdl: list[bytes] = field(default_factory=list)

    def decisions(self, run_id: str = RUN) -> list[dict[str, Any]]:
        return [body for body in map(orjson.loads, self.rtdl) if body["pins"]["run_id"] == run_id]


def decide_online(log: Iterable[TrafficRecord], *, degraded_after: int | None = None) -> Online:
    """Feed ``log`` in its order to one HotPath; from record ``degraded_after`` on, the worker
    runs DEGRADED (no graph features), so postures differ between decisions."""
    hot = HotPath(PROFILE.policy.decision, PROFILE.policy_rev)
    online = Online()
    for n, record in enumerate(log):
        degraded = degraded_after is not None and n >= degraded_after
        ctx = context(Posture.DEGRADED if degraded else Posture.NORMAL)
        ref = EbRef(topic=DEFAULT_TOPIC, partition=record.partition, offset=record.offset)
        for result in hot.offer(record.value, ref, ctx, run_known=lambda r: r in (RUN, OTHER_RUN),
                                watermark=record.watermark):
            assert result.anomaly is None, result.anomaly
            if result.decision is not None:
                online.rtdl.append(canonical_dumps(result.decision.model_dump(mode="json")))
    return online


@dataclass(frozen=True)
class FakeRecord:
    """A read-back record, shaped like aiokafka's ``ConsumerRecord``."""

    partition: int
    offset: int
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def as_read_back(log: Iterable[TrafficRecord]) -> list[FakeRecord]:
    """The log as ``read_topic`` returns it: partition by partition, headers on watermarks."""
    return [FakeRecord(r.partition, r.offset, r.value,
                       ((WATERMARK_HEADER, b"1"),) if r.watermark else ())
            for r in sorted(log, key=lambda r: (r.partition, r.offset))]


@functools.cache
def small_world() -> tuple[list[TrafficRecord], Online]:
    """The default log and its online decisions (DEGRADED from the middle on), built once."""
    log = traffic_log()
    return log, decide_online(log, degraded_after=len(log) // 2)

"""The case log's bus copy: which stored case events ``fp.bus.case.v1`` still lacks.

The object store is the truth (``app.cases.log``: one create-only object per case event); the
topic is derived from it by an outbox relay (the ``case_bus`` agent), effectively once per
``(case_id, seq)``. Pure parts here, the I/O in the agent:

- a case's events all go to one partition, :func:`partition_of` its id: Kafka's default
  partitioner over the key (DESIGN: murmur2 of the record key), computed here so the relay can
  say which partition owes what before it produces; a consumer reads each case in ``seq`` order;
- the record's key is the case id, its value the event's bytes exactly as stored;
- :func:`missing` is what a partition owes: stored events not on it yet, in ``(case_id, seq)``
  order, each case's only as far as it is contiguous (an event is published only after every
  earlier event of its case, so a partition never holds ``seq`` n+1 before n).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import orjson
from pydantic import ValidationError

from app.cases.log import _EVENT, CASES_PREFIX, event_key
from app.objectstore.base import ObjectStore
from app.rails.case import CaseEvent
from app.rails.partition_key import kafka_partition

__all__ = ["EventId", "Published", "decode_published", "event_bytes", "missing", "partition_of",
           "stored_events"]

EventId = tuple[str, int]
"""A case event's identity: ``(case_id, seq)`` (the case log's key, and the bus's dedupe key)."""


def partition_of(case_id: str, partitions: int) -> int:
    """The partition of every event of ``case_id``: murmur2 of its key, as Kafka picks it."""
    if partitions <= 0:
        raise ValueError(f"partitions must be positive, got {partitions}")
    return kafka_partition(case_id.encode(), partitions)


async def stored_events(store: ObjectStore) -> list[EventId]:
    """Every case event in the store, in ``(case_id, seq)`` order (one listing of ``cases/``;
    evidence and anything else under it is not an event)."""
    return sorted((m["case"], int(m["seq"])) for key in await store.list(CASES_PREFIX)
                  if (m := _EVENT.match(key)))


async def event_bytes(store: ObjectStore, event: EventId) -> bytes:
    """The event's canonical bytes as stored: the record's value."""
    return await store.get(event_key(*event))


def missing(stored: Iterable[EventId], published: set[EventId], partition: int,
            partitions: int) -> list[EventId]:
    """The stored events of ``partition`` not published yet, in ``(case_id, seq)`` order.

    A case's events are taken only while its sequence is unbroken (``seq`` 1, or the one before
    stored or published): a listing that shows ``seq`` 3 without 2 publishes 1 and waits.
    """
    stored_set = set(stored)
    out: list[EventId] = []
    for case_id, seq in sorted(stored_set):
        if partition_of(case_id, partitions) != partition or (case_id, seq) in published:
            continue
        before = (case_id, seq - 1)
        if seq == 1 or before in published or (out and out[-1] == before):
            out.append((case_id, seq))
    return out


Anomaly = Literal["not_a_case_event", "key_mismatch", "misplaced"]


@dataclass(frozen=True)
class Published:
    """A record read from the topic: the event it carries, or why it is an anomaly."""

    event: EventId | None
    anomaly: Anomaly | None = None


def decode_published(key: bytes, value: bytes, partition: int, partitions: int) -> Published:
    """What a record of ``fp.bus.case.v1`` carries; never raises (a record the relay did not
    write, or wrote under another partition count, is an anomaly for the metric and the log)."""
    try:
        event = CaseEvent.model_validate(orjson.loads(value))
    except (orjson.JSONDecodeError, ValidationError):
        return Published(None, "not_a_case_event")
    ident = (event.case_id, event.seq)
    if key != event.case_id.encode():
        return Published(ident, "key_mismatch")
    if partition_of(event.case_id, partitions) != partition:
        return Published(ident, "misplaced")
    return Published(ident)

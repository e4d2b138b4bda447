"""Records read back from the bus for the run summary: the decoded body plus where and when.

The summary measures latency and throughput with the broker's record timestamps (when the record
reached the log), never a worker's clock, so every number can be re-derived from the topics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["BusRecord", "decode_record", "run_of"]


@dataclass(frozen=True, slots=True)
class BusRecord:
    """One decoded record of a topic partition, with its bus timestamp (ms since the epoch)."""

    partition: int
    offset: int
    timestamp_ms: int
    body: Mapping[str, Any]

    @property
    def record_type(self) -> str | None:
        value = self.body.get("record_type")
        return value if isinstance(value, str) else None


def decode_record(partition: int, offset: int, timestamp_ms: int,
                  value: bytes | None) -> BusRecord | None:
    """The record as a :class:`BusRecord`, or None when its value is not a JSON object."""
    try:
        body = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    return BusRecord(partition, offset, timestamp_ms, body) if isinstance(body, dict) else None


def run_of(body: Mapping[str, Any]) -> str | None:
    """The ``pins.run_id`` a record claims (None when it has no readable pins)."""
    pins = body.get("pins")
    run_id = pins.get("run_id") if isinstance(pins, Mapping) else None
    return run_id if isinstance(run_id, str) else None

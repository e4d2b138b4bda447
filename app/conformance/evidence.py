"""What a run left behind, gathered from outside the platform: bus records and durable stores.

The conformance checks judge a run only by this evidence — the traffic log, ``fp.bus.rtdl.v1``,
the audit topic, the executor's side-effect log and DLA's audit segments — never by the
platform's own counters. Records stay raw bytes plus their bus position; each check parses what
it needs, so a malformed record is a finding of the check, not a crash of the collector.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.rails.receipts import EbRef
from app.rails.watermark import is_watermark_value

__all__ = ["BusRecord", "RunEvidence", "records_of"]


@dataclass(frozen=True, slots=True)
class BusRecord:
    """One record as read back from a topic: where it sits, its producer timestamp, its bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    value: bytes

    @property
    def eb_ref(self) -> EbRef:
        return EbRef(topic=self.topic, partition=self.partition, offset=self.offset)

    def parsed(self) -> Any:
        """The record's JSON (raises ``orjson.JSONDecodeError`` on bad bytes)."""
        return orjson.loads(self.value)


def records_of(topic: str, raw: Iterable[Any]) -> list[BusRecord]:
    """Wrap aiokafka ``ConsumerRecord``s (or look-alikes) read from ``topic``."""
    return [BusRecord(topic=topic, partition=r.partition, offset=r.offset,
                      timestamp_ms=getattr(r, "timestamp", None), value=r.value or b"")
            for r in raw]


@dataclass
class RunEvidence:
    """Everything the checks look at for one run (``run_id``) of one deployment."""

    run_id: str
    traffic: Sequence[BusRecord]
    rtdl: Sequence[BusRecord]
    audit_topic: Sequence[BusRecord] = ()
    side_effects: Sequence[dict[str, Any]] | None = None
    """The executor's side-effect log entries (None when the executor's log is not readable)."""
    audit_records: Sequence[dict[str, Any]] | None = None
    """DLA's audit records as JSON (None when the run has no DLA)."""
    trigger_types: tuple[str, ...] = ("auth_request",)
    """Event types that trigger a decision (the deployment's ``policy.decision.triggers``)."""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def traffic_events(self) -> dict[tuple[int, int], dict[str, Any]]:
        """Admitted events of the run by (partition, offset); unreadable ones are skipped here
        (the hot path reports them as anomalies), and so are IG's watermark records."""
        if "traffic" not in self._cache:
            out: dict[tuple[int, int], dict[str, Any]] = {}
            for record in self.traffic:
                try:
                    event = record.parsed()
                except orjson.JSONDecodeError:
                    continue
                if isinstance(event, dict) and event.get("run_id") == self.run_id \
                        and not is_watermark_value(event):
                    out[(record.partition, record.offset)] = event
            self._cache["traffic"] = out
        return dict(self._cache["traffic"])

    def rtdl_of_type(self, record_type: str) -> list[tuple[BusRecord, dict[str, Any]]]:
        """The run's rtdl records of one ``record_type``, with their position."""
        key = f"rtdl:{record_type}"
        if key not in self._cache:
            self._cache[key] = [(record, body) for record, body in self._rtdl_parsed()
                                if body.get("record_type") == record_type
                                and (body.get("pins") or {}).get("run_id") == self.run_id]
        return list(self._cache[key])

    def _rtdl_parsed(self) -> list[tuple[BusRecord, dict[str, Any]]]:
        if "rtdl" not in self._cache:
            parsed: list[tuple[BusRecord, dict[str, Any]]] = []
            for record in self.rtdl:  # unreadable records are exactly_one_decision's finding
                try:
                    body = record.parsed()
                except orjson.JSONDecodeError:
                    continue
                if isinstance(body, dict):
                    parsed.append((record, body))
            self._cache["rtdl"] = parsed
        return list(self._cache["rtdl"])

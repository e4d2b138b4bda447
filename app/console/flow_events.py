"""A flow's events for a case page: its authorisation, clearing, refunds, reversals and labels,
as IG admitted them (the admitted-traffic archive, ``app.ig.archive``).

The archive is the platform's copy of what it admitted, so the page works when the bus that
carried the events is gone (the embedded broker keeps nothing after a run). A run's archive is
read once and indexed by flow; it is read again only when its segment listing changes (a run
still streaming).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.ig.archive import ARCHIVE_PREFIX, envelopes_only, read_run
from app.objectstore.base import ObjectStore
from app.rails.archive import ArchivedRecord

__all__ = ["FlowEvent", "FlowEvents", "flow_events_of"]

_DETAIL = ("label_type", "label_value", "merchant_id", "mcc", "channel", "entry_mode",
           "device_id", "ip_id", "currency")
"""Payload fields a case page shows beside an event (entity ids and what kind of payment)."""


@dataclass(frozen=True)
class FlowEvent:
    ts_utc: str
    event_type: str
    amount_minor: int | None
    detail: str
    event_id: str
    stream: str


def flow_events_of(records: list[ArchivedRecord]) -> dict[str, list[FlowEvent]]:
    """Admitted envelopes by the flow their payload names, each flow in (ts, event id) order."""
    flows: dict[str, list[FlowEvent]] = {}
    for record in envelopes_only(records):
        envelope = record.record
        payload = envelope.get("payload") or {}
        flow_id = payload.get("flow_id")
        if not isinstance(flow_id, str):
            continue
        amount = payload.get("amount_minor")
        detail = " ".join(f"{k} {payload[k]}" for k in _DETAIL
                          if payload.get(k) is not None)
        flows.setdefault(flow_id, []).append(FlowEvent(
            ts_utc=str(envelope.get("ts_utc")), event_type=str(envelope.get("event_type")),
            amount_minor=amount if isinstance(amount, int) else None, detail=detail,
            event_id=str(envelope.get("event_id")), stream=record.stream))
    for events in flows.values():
        events.sort(key=lambda e: (e.ts_utc, e.event_id))
    return flows


class FlowEvents:
    """Per-run flow index over the archive, refreshed when the run's segments change."""

    def __init__(self) -> None:
        self._runs: dict[str, tuple[tuple[str, ...], dict[str, list[FlowEvent]]]] = {}

    async def of(self, store: ObjectStore, run_id: str, flow_id: str) -> list[FlowEvent]:
        listing = tuple(await store.list(f"{ARCHIVE_PREFIX}/{run_id}/"))
        held = self._runs.get(run_id)
        if held is None or held[0] != listing:
            records: list[ArchivedRecord] = []
            for stream in ("traffic", "labels"):
                for partition in (await read_run(store, run_id, stream)).values():
                    records.extend(partition)
            held = (listing, flow_events_of(records))
            self._runs[run_id] = held
        return held[1].get(flow_id, [])

"""The lookup index of one segment: decision, trigger event and action ids -> segment lines.

One index object per segment (``dla/index/...json``, see ``app.dla.segments``), written after its
segment and a pure function of the segment's bytes, so a missing one is rebuilt from the
segment and a rebuilt one is byte-identical (create-only ``put`` accepts it as a no-op).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.dla.segments import Segment
from app.rails.audit import AuditAnomaly, AuditRecord
from app.rails.canonical_json import canonical_dumps

__all__ = ["IdKind", "SegmentIndex", "encode_index", "index_of", "index_of_entries"]

IdKind = Literal["decision", "event", "action"]


class SegmentIndex(BaseModel):
    """Ids of a segment's audit records -> their line numbers (1-based: line 0 is the header)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["dla_index"] = "dla_index"
    schema_version: Literal["v1"] = "v1"
    segment: str
    decision: dict[str, list[int]]
    event: dict[str, list[int]]
    action: dict[str, list[int]]
    anomalies: list[int]

    def lines(self, kind: IdKind, id_: str) -> list[int]:
        return list(getattr(self, kind).get(id_, ()))


def index_of(segment: Segment) -> SegmentIndex:
    return index_of_entries(segment.key, segment.entries)


def index_of_entries(key: str, entries: Iterable[AuditRecord | AuditAnomaly]) -> SegmentIndex:
    """The index of the segment ``key`` holding ``entries`` (in line order): a flush indexes
    the entries it has just written without reading the segment back."""
    maps: dict[IdKind, dict[str, list[int]]] = {"decision": {}, "event": {}, "action": {}}
    anomalies: list[int] = []
    for line, entry in enumerate(entries, start=1):
        if not isinstance(entry, AuditRecord):
            anomalies.append(line)
            continue
        maps["decision"].setdefault(entry.decision_id, []).append(line)
        maps["event"].setdefault(entry.decision.trigger_event_id, []).append(line)
        for intent in entry.intents:
            maps["action"].setdefault(intent.action_id, []).append(line)
    return SegmentIndex(segment=key, anomalies=anomalies, decision=maps["decision"],
                        event=maps["event"], action=maps["action"])


def encode_index(index: SegmentIndex) -> bytes:
    return canonical_dumps(index.model_dump(mode="json")) + b"\n"

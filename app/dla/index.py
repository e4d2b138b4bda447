"""The lookup index of one segment: decision, trigger event and action ids -> segment lines.

One index object per segment (``dla/index/...json``, see ``app.dla.segments``), written after its
segment and a pure function of the segment's bytes, so a missing one is rebuilt from the
segment and a rebuilt one is byte-identical (create-only ``put`` accepts it as a no-op).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.dla.chains import IndexKeys
from app.dla.segments import Segment
from app.rails.audit import AuditRecord
from app.rails.canonical_json import canonical_dumps

__all__ = ["IdKind", "SegmentIndex", "encode_index", "index_bytes", "index_of", "index_of_keys"]

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
    return index_of_keys(segment.key, [
        (e.decision_id, e.decision.trigger_event_id, tuple(i.action_id for i in e.intents))
        if isinstance(e, AuditRecord) else None for e in segment.entries])


def index_of_keys(key: str, rows: Iterable[IndexKeys | None]) -> SegmentIndex:
    """The index of the segment ``key`` from its entries' keys in line order (None: an
    anomaly): a flush indexes what it has just written without reading the segment back."""
    return SegmentIndex.model_validate(_index_json(key, rows))


def index_bytes(key: str, rows: Iterable[IndexKeys | None]) -> bytes:
    """``encode_index(index_of_keys(key, rows))`` without the model round trip (the fields are
    the fold's validated ids and line numbers; a test pins the equality)."""
    return canonical_dumps(_index_json(key, rows)) + b"\n"


def _index_json(key: str, rows: Iterable[IndexKeys | None]) -> dict[str, object]:
    maps: dict[IdKind, dict[str, list[int]]] = {"decision": {}, "event": {}, "action": {}}
    anomalies: list[int] = []
    for line, row in enumerate(rows, start=1):
        if row is None:
            anomalies.append(line)
            continue
        decision_id, event_id, action_ids = row
        maps["decision"].setdefault(decision_id, []).append(line)
        maps["event"].setdefault(event_id, []).append(line)
        for action_id in action_ids:
            maps["action"].setdefault(action_id, []).append(line)
    return {"record_type": "dla_index", "schema_version": "v1", "segment": key,
            "anomalies": anomalies, "decision": maps["decision"], "event": maps["event"],
            "action": maps["action"]}


def encode_index(index: SegmentIndex) -> bytes:
    return canonical_dumps(index.model_dump(mode="json")) + b"\n"

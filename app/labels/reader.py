"""Read the Label Store back from its two sources: every timeline, and what was kept aside.

Readers (``fp labels show``, ``GET /v1/labels/...``, the learning loop) build one
:class:`LabelTimelines` from every segment of every labels log (each bus generation is a log of
its own; a label event admitted again on a new bus is the same assertion, a duplicate) and from
every case's verdicts (``app.labels.from_case``). The reads are as-of by construction, so it does
not matter when a reader loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.cases.log import list_case_ids, read_case
from app.labels.from_case import assertions_of_case
from app.labels.segments import AnomalyLine, CollisionLine, decode_segment, list_segments
from app.labels.timeline import LabelTimelines
from app.objectstore.base import ObjectStore
from app.rails.label import LabelAssertion

__all__ = ["LabelStoreView", "flow_label", "read_label_store"]


@dataclass
class LabelStoreView:
    timelines: LabelTimelines = field(default_factory=LabelTimelines)
    anomalies: list[AnomalyLine] = field(default_factory=list)
    collisions: list[CollisionLine] = field(default_factory=list)
    segments: int = 0


async def read_label_store(store: ObjectStore) -> LabelStoreView:
    """Every segment, in (log, partition, offset) order."""
    view = LabelStoreView()
    for key in await list_segments(store):
        segment = decode_segment(key, await store.get(key))
        view.segments += 1
        for entry in segment.entries:
            if isinstance(entry, LabelAssertion):
                if view.timelines.append(entry).status == "collision":  # across partitions
                    held = view.timelines.get(entry.run_id, entry.label_id)
                    assert held is not None
                    view.collisions.append(CollisionLine(
                        refused=entry, held_payload_hash=held.payload_hash))
            elif isinstance(entry, AnomalyLine):
                view.anomalies.append(entry)
            else:
                view.collisions.append(entry)
    for case_id in await list_case_ids(store):
        case = await read_case(store, case_id)
        if case is not None:
            view.timelines.extend(assertions_of_case(case))
    return view


async def flow_label(store: ObjectStore, run_id: str | None, flow_id: str | None) -> str | None:
    """The flow's latest label value as the Label Store knows it now (None: no label, or no
    flow): what a verdict would overturn."""
    if run_id is None or flow_id is None:
        return None
    verdict = (await read_label_store(store)).timelines.verdict((run_id, flow_id))
    return None if verdict is None else verdict.label_value

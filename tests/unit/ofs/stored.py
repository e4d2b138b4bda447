"""The small OFS world (``tests.unit.ofs.world``) as the object store holds it after a run: the
traffic log in IG's admitted-traffic archive, each decision's closed chain in DLA's audit log."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from app.ig.archive import write_archive
from app.labels.partition import LabelPartition
from app.objectstore.base import ObjectStore
from app.ofs.rebuild import TrafficRecord
from app.rails.archive import ArchivedRecord
from app.rails.decision import DecisionRecord
from tests.unit.dla.conftest import Rtdl, make_outcome, write_log
from tests.unit.labels.test_label_stage import LOG as LABELS_LOG
from tests.unit.labels.test_label_stage import TOPIC as LABELS_TOPIC
from tests.unit.ofs.world import small_world

__all__ = ["archive_log", "audit_decisions", "store_world"]


async def archive_log(store: ObjectStore, log: Iterable[TrafficRecord],
                      generation: str = "g1") -> None:
    """Archive every record of ``log`` (both runs, watermarks included) as IG does."""
    await write_archive(store, generation, [
        ArchivedRecord(stream="traffic", partition=r.partition, offset=r.offset,
                       partition_key=f"k{r.partition}", ingress_partition=0,
                       record=orjson.loads(r.value),
                       kind="watermark" if r.watermark else "envelope")
        for r in log])


async def audit_decisions(store: ObjectStore, rtdl: Iterable[bytes]) -> list[DecisionRecord]:
    """DLA's audit records for every decision in ``rtdl`` (each chain closed by an EXECUTED
    outcome per intent); returns the decisions."""
    log = Rtdl()
    decisions = [DecisionRecord.model_validate(orjson.loads(v)) for v in rtdl]
    for decision in decisions:
        log.append(decision, *(make_outcome(decision, i) for i in range(len(decision.intents))))
    await write_log(store, log)
    return decisions


async def store_world(store: ObjectStore, labels: Iterable[bytes] = ()) -> None:
    """The small world's archive and audit log, plus ``labels`` (label event envelopes, e.g.
    ``tests.unit.labels.test_label_stage.label_event``) in the Label Store."""
    log, online = small_world()
    await archive_log(store, log)
    await audit_decisions(store, online.rtdl)
    part = LabelPartition(LABELS_LOG, LABELS_TOPIC, 0)
    for offset, value in enumerate(labels):
        part.apply(offset, value)
    await part.flush(store)

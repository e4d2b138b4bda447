"""The Label Store on the partition stage without a broker: an in-memory labels partition, fake
faust events and a real local object store. A crash (state dropped without a flush) and a
handover both resume after the last segment: every label event ends in exactly one segment line,
anomalies and collisions are kept, and the reader sees the same timelines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.agents.labels import _LabelStore
from app.labels.partition import LabelPartition
from app.labels.reader import read_label_store
from app.labels.segments import decode_segment, list_segments
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.envelope import dump_envelope
from app.rails.label import LabelAssertion
from app.rails.timefmt import epoch_micros_to_ts
from app.runtime.partition_stage import PartitionStage, Record
from tests.factories import (
    _T0_MICROS,
    StageEvent,
    StageMessage,
    StageTp,
    make_envelope,
    make_payload,
)

TOPIC = "fp.bus.labels.v1"
LOG = "fp.bus.labels.v1.e0"


@dataclass
class LabelsLog:
    """The in-memory labels partition 0 as the stage's :class:`PartitionLog`."""

    values: list[bytes] = field(default_factory=list)

    async def read(self, partition: int, start: int, stop: int | None) -> list[Record]:
        end = len(self.values) if stop is None else stop
        return [Record(partition, o, b"", v, None) for o, v in enumerate(self.values)
                if start <= o < end]

    async def end(self, partition: int) -> int:
        return len(self.values)

    def events(self, start: int, stop: int) -> list[StageEvent]:
        return [StageEvent(StageMessage(0, o, b"", self.values[o], None))
                for o in range(start, stop)]


def label_event(flow: int, kind: int = 0, value: str = "fraud", observed_s: int = 3600) -> bytes:
    payload = make_payload("label_event", flow, label_event_id=f"lbl_{flow:012d}_{kind}",
                           label_value=value)
    return dump_envelope(make_envelope(
        flow * 10 + kind, event_type="label_event", payload=payload,
        ts_utc=epoch_micros_to_ts(_T0_MICROS + (flow + observed_s) * 1_000_000)))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


def _worker(store: ObjectStore, log: LabelsLog) -> tuple[PartitionStage[LabelPartition],
                                                          _LabelStore]:
    logic = _LabelStore(store=store, topic=TOPIC, log_id=LOG)
    stage = PartitionStage(name="labels", topic=TOPIC, log_id=LOG, logic=logic, log=log,
                           catch_up=True)
    stage.assign([StageTp(TOPIC, 0)])
    return stage, logic


async def _lines(store: ObjectStore) -> list[object]:
    out: list[object] = []
    for key in await list_segments(store, LOG, 0):
        out.extend(decode_segment(key, await store.get(key)).entries)
    return out


async def test_a_crash_and_a_handover_leave_every_label_event_in_one_line(
        store: ObjectStore) -> None:
    log = LabelsLog([label_event(i) for i in range(30)])
    stage, logic = _worker(store, log)
    await stage.process(log.events(0, 10))
    await stage.visit(logic.flush)  # segment [0, 10)
    await stage.process(log.events(10, 20))  # applied, never flushed: then kill -9

    log.values += [label_event(i) for i in range(30, 40)]
    stage, logic = _worker(store, log)  # the restarted worker: resumes at 10, catches up
    await stage.process(log.events(35, 40))
    await stage.revoke()  # a handover writes what is buffered

    stage, logic = _worker(store, log)
    await stage.visit(logic.flush)  # the next owner: nothing new, nothing written twice

    lines = await _lines(store)
    ids = [e.label_id for e in lines if isinstance(e, LabelAssertion)]
    assert sorted(ids) == sorted(f"lbl_{i:012d}_0" for i in range(40))
    view = await read_label_store(store)
    assert len(view.timelines) == 40


async def test_bad_records_are_kept_as_anomalies_and_collisions_never_applied(
        store: ObjectStore) -> None:
    original = label_event(1, value="fraud")
    log = LabelsLog([original, b"not json", label_event(1, value="legit"), original,
                     dump_envelope(make_envelope(5))])  # an auth_request on the labels topic
    stage, logic = _worker(store, log)
    await stage.visit(logic.flush)
    lines = await _lines(store)
    kinds = [getattr(e, "record_type", None) for e in lines]
    assert kinds == ["label_assertion", "label_anomaly", "label_collision", "label_anomaly"]
    view = await read_label_store(store)
    assert [a.label_value for a in view.timelines.timeline(
        view.timelines.subjects()[0])] == ["fraud"]
    assert len(view.anomalies) == 2 and len(view.collisions) == 1
    assert view.anomalies[0].ref.offset == 1

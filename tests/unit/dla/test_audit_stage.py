"""DLA's logic on the partition stage, without a broker: an in-memory rtdl partition, fake
faust events and a real local object store. A handover (revoke on one worker, take on another)
continues the segments without overlap or rewrite, and every chain is audited once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from app.agents.audit_log import _AuditLog, tick
from app.dla.partition_log import AuditPartition
from app.dla.segments import decode_segment, list_segments
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.audit import AuditRecord
from app.rails.decision import ActionType
from app.runtime.partition_stage import PartitionStage, Record
from tests.factories import StageEvent, StageMessage, StageTp
from tests.unit.dla.conftest import TOPIC, Rtdl, make_decision, make_outcome

LOG = "fp.bus.rtdl.v1.e0"
TWO = (ActionType.DECLINE_AUTH, ActionType.OPEN_CASE)


@dataclass
class RtdlLog:
    """The in-memory rtdl partition 0 as the stage's :class:`PartitionLog`."""

    rtdl: Rtdl

    async def read(self, partition: int, start: int, stop: int | None) -> list[Record]:
        end = len(self.rtdl.records) if stop is None else stop
        return [Record(partition, r.offset, b"", r.value, r.published_s)
                for r in self.rtdl.records if start <= r.offset < end]

    async def end(self, partition: int) -> int:
        return len(self.rtdl.records)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


def _stream(rtdl: Rtdl, n: int) -> None:
    """n decisions with two intents; each decision's outcomes trail it by one decision."""
    decisions = [make_decision(i, TWO) for i in range(n)]
    for i, decision in enumerate(decisions):
        rtdl.append(decision)
        if i:
            rtdl.append(make_outcome(decisions[i - 1], 0), make_outcome(decisions[i - 1], 1))
    rtdl.append(make_outcome(decisions[-1], 0), make_outcome(decisions[-1], 1))


def _worker(store: ObjectStore, rtdl: Rtdl) -> tuple[PartitionStage[AuditPartition], _AuditLog]:
    log = RtdlLog(rtdl)
    logic = _AuditLog(store=store, log=log, rtdl=TOPIC, log_id=LOG, segment_max_chains=2)
    stage = PartitionStage(name="dla", topic=TOPIC, log_id=LOG, logic=logic, log=log,
                           catch_up=True)
    stage.assign([StageTp(TOPIC, 0)])
    return stage, logic


def _events(rtdl: Rtdl, start: int, stop: int) -> list[StageEvent]:
    return [StageEvent(StageMessage(0, r.offset, b"", r.value, r.published_s))
            for r in rtdl.records[start:stop]]


async def _spans(store: ObjectStore) -> list[tuple[int, int]]:
    spans = []
    for key in await list_segments(store, LOG, 0):
        header = decode_segment(key, await store.get(key)).header
        spans.append((header.first_offset, header.next_offset))
    return spans


async def test_a_handover_continues_the_segments_and_audits_every_chain_once(
        store: ObjectStore, rtdl: Rtdl) -> None:
    _stream(rtdl, 6)  # 6 decisions + 12 outcomes: offsets 0..17
    first, _ = _worker(store, rtdl)
    await first.process(_events(rtdl, 0, 5))
    await first.process(_events(rtdl, 3, 8))  # a redelivery of 3..4
    at_revocation = {k: await store.get(k) for k in await store.list("dla")}
    await first.revoke()  # the buffer is written before the partition is let go
    assert first.states == {}
    second, logic = _worker(store, rtdl)
    await tick(second, logic)  # taken eagerly: restored from segments, caught up to the end
    await second.process(_events(rtdl, 10, 18))  # all below the applied point by now
    await second.revoke()
    spans = await _spans(store)
    assert spans[0][0] == 0 and spans[-1][1] == len(rtdl.records)
    assert all(end == start for (_, end), (start, _) in pairwise(spans))
    assert {k: await store.get(k) for k in at_revocation} == at_revocation  # none rewritten
    audited = [e for k in await list_segments(store, LOG, 0)
               for e in decode_segment(k, await store.get(k)).entries]
    assert all(isinstance(e, AuditRecord) for e in audited)  # no anomaly, no duplicate
    assert sorted(e.decision_id for e in audited if isinstance(e, AuditRecord)) == sorted(
        make_decision(i, TWO).decision_id for i in range(6))


async def test_a_gap_in_delivery_is_read_from_the_log_and_folded_in_order(
        store: ObjectStore, rtdl: Rtdl) -> None:
    _stream(rtdl, 3)
    stage, _ = _worker(store, rtdl)
    await stage.process(_events(rtdl, 0, 1))
    rtdl_len = len(rtdl.records)
    await stage.process(_events(rtdl, rtdl_len - 1, rtdl_len))  # skips everything between
    assert stage.next_offsets[0] == rtdl_len
    await stage.revoke()
    audited = [e for k in await list_segments(store, LOG, 0)
               for e in decode_segment(k, await store.get(k)).entries]
    assert len(audited) == 3

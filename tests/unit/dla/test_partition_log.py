"""Segments, index and restore of one partition's audit log, on a real local object store.

The append-only proof lives here: an overwrite with other bytes is refused by the store, and a
restart continues the log from its last segment byte for byte, never writing a key twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.dla.anomaly import AuditAnomaly
from app.dla.errors import AuditRestoreError
from app.dla.index import SegmentIndex
from app.dla.partition_log import AuditPartition
from app.dla.segments import decode_segment, index_key_of, list_segments
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.audit import AuditRecord
from app.rails.canonical_json import canonical_loads
from app.rails.decision import ActionType
from app.rails.errors import ObjectExistsError
from tests.unit.dla.conftest import TOPIC, Rtdl, make_decision, make_outcome

LOG = "fp.bus.rtdl.v1.e0"
CLOCK = "2025-01-01T00:00:00.000000Z"
TWO = (ActionType.DECLINE_AUTH, ActionType.OPEN_CASE)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


def _stream(n: int) -> list[object]:
    """n decisions with two intents; each decision's outcomes trail it by one decision."""
    items: list[object] = []
    decisions = [make_decision(i, TWO) for i in range(n)]
    for i, decision in enumerate(decisions):
        items.append(decision)
        if i:
            items += [make_outcome(decisions[i - 1], 1), make_outcome(decisions[i - 1], 0)]
    items += [make_outcome(decisions[-1], 0), make_outcome(decisions[-1], 1)]
    return items


async def _run(store: ObjectStore, rtdl: Rtdl, part: AuditPartition, cuts: set[int]) -> None:
    """Apply from the partition's resume point to the end, flushing after each offset in cuts."""
    for record in rtdl.records[part.next_offset:]:
        part.apply(record)
        if record.offset in cuts:
            await part.flush(store, CLOCK)
    await part.flush(store, CLOCK)


async def _objects(store: ObjectStore) -> dict[str, bytes]:
    return {k: await store.get(k) for k in await store.list("dla")}


async def test_segment_holds_header_and_records_and_round_trips(store: ObjectStore,
                                                                rtdl: Rtdl) -> None:
    rtdl.append(*_stream(3), b"junk")
    part = AuditPartition(LOG, TOPIC, 2)
    await _run(store, rtdl, part, {3})
    keys = await list_segments(store, LOG, 2)
    assert keys == [f"dla/segments/{LOG}/p002/000000000000-000000000004.jsonl",
                    f"dla/segments/{LOG}/p002/000000000004-000000000010.jsonl"]
    first = decode_segment(keys[0], await store.get(keys[0]))
    assert first.header.first_offset == 0 and first.header.next_offset == 4
    assert first.header.applied_at_utc == CLOCK
    assert [(c.decision_offset, c.outcome_offsets) for c in first.header.open_chains] == [(1, ())]
    assert [e.decision_id for e in first.entries if isinstance(e, AuditRecord)] == [
        make_decision(0, TWO).decision_id]
    second = decode_segment(keys[1], await store.get(keys[1]))
    assert second.header.open_chains == () and second.header.audit_records == 2
    assert isinstance(second.entries[-1], AuditAnomaly)
    assert second.header.anomalies == 1


async def test_no_segment_without_news(store: ObjectStore, rtdl: Rtdl) -> None:
    part = AuditPartition(LOG, TOPIC, 0)
    assert await part.flush(store, CLOCK) is None
    rtdl.append(make_decision(0, TWO))  # opens a chain, closes nothing: offsets still moved
    part.apply(rtdl.records[0])
    assert await part.flush(store, CLOCK) is not None
    assert await part.flush(store, CLOCK) is None  # idle: nothing new to write
    assert len(await list_segments(store, LOG, 0)) == 1


async def test_index_finds_lines_by_decision_event_and_action(store: ObjectStore,
                                                              rtdl: Rtdl) -> None:
    rtdl.append(*_stream(2))
    await _run(store, rtdl, AuditPartition(LOG, TOPIC, 0), set())
    [key] = await list_segments(store, LOG, 0)
    index = SegmentIndex.model_validate(canonical_loads(await store.get(index_key_of(key))))
    segment = decode_segment(key, await store.get(key))
    decision = make_decision(1, TWO)
    for kind, id_ in (("decision", decision.decision_id), ("event", decision.trigger.event_id),
                      ("action", decision.intents[1].action_id)):
        [line] = index.lines(kind, id_)  # type: ignore[arg-type]  # literal from the tuple
        entry = segment.entries[line - 1]
        assert isinstance(entry, AuditRecord) and entry.decision_id == decision.decision_id


async def test_overwriting_a_segment_or_an_index_is_refused(store: ObjectStore,
                                                            rtdl: Rtdl) -> None:
    rtdl.append(*_stream(2))
    await _run(store, rtdl, AuditPartition(LOG, TOPIC, 0), set())
    [key] = await list_segments(store, LOG, 0)
    before = await _objects(store)
    for target in (key, index_key_of(key)):
        with pytest.raises(ObjectExistsError):
            await store.put(target, before[target] + b"\n")
        await store.put(target, before[target])  # the same bytes: a no-op
    assert await _objects(store) == before


async def test_restart_from_a_segment_continues_byte_for_byte(store: ObjectStore,
                                                              tmp_path: Path,
                                                              rtdl: Rtdl) -> None:
    rtdl.append(*_stream(6))
    cuts = {4, 9, 13}
    async with LocalObjectStore(tmp_path / "reference") as reference:
        await _run(reference, rtdl, AuditPartition(LOG, TOPIC, 0), cuts)
        expected = await _objects(reference)
    crashed = AuditPartition(LOG, TOPIC, 0)
    for record in rtdl.records[:12]:  # crash at 12: segments cut at 4 and 9, 10..11 lost
        crashed.apply(record)
        if record.offset in cuts:
            await crashed.flush(store, CLOCK)
    written = await _objects(store)
    restarted = AuditPartition(LOG, TOPIC, 0)
    await restarted.restore(store, rtdl.read_range)
    assert restarted.next_offset == 10 and restarted.first_offset == 10
    # open at the cut (offset 9): decision 3, with none of its outcomes yet
    assert set(restarted.fold.open) == {make_decision(3, TWO).decision_id}
    await _run(store, rtdl, restarted, cuts)
    after = await _objects(store)
    assert after == expected
    assert {k: after[k] for k in written} == written  # nothing written before was touched


async def test_restart_recognises_outcomes_of_chains_closed_before_it(store: ObjectStore,
                                                                      rtdl: Rtdl) -> None:
    decision = make_decision(0)
    rtdl.append(decision, make_outcome(decision))
    await _run(store, rtdl, AuditPartition(LOG, TOPIC, 0), set())
    rtdl.append(make_outcome(decision), make_outcome(decision, status="FAILED"))
    restarted = AuditPartition(LOG, TOPIC, 0)
    await restarted.restore(store, rtdl.read_range)
    await _run(store, rtdl, restarted, set())
    records = [e for k in await list_segments(store, LOG, 0)
               for e in decode_segment(k, await store.get(k)).entries]
    assert len(records) == 2  # the repeat is ignored; the conflict supersedes
    assert isinstance(records[1], AuditRecord) and records[1].supersedes == records[0].audit_id


async def test_missing_index_is_rebuilt_identically_on_restore(store: ObjectStore,
                                                               rtdl: Rtdl) -> None:
    rtdl.append(*_stream(2))
    await _run(store, rtdl, AuditPartition(LOG, TOPIC, 0), set())
    [key] = await list_segments(store, LOG, 0)
    index = await store.get(index_key_of(key))
    assert isinstance(store, LocalObjectStore)
    store.path_for(index_key_of(key)).unlink()  # a crash between the two writes
    await AuditPartition(LOG, TOPIC, 0).restore(store, rtdl.read_range)
    assert await store.get(index_key_of(key)) == index


async def test_restore_refuses_a_log_that_lost_referenced_records(store: ObjectStore,
                                                                  rtdl: Rtdl) -> None:
    rtdl.append(make_decision(0, TWO))
    part = AuditPartition(LOG, TOPIC, 0)
    part.apply(rtdl.records[0])
    await part.flush(store, CLOCK)
    with pytest.raises(AuditRestoreError):
        await AuditPartition(LOG, TOPIC, 0).restore(store, Rtdl().read_range)


def test_offsets_apply_once_in_order(rtdl: Rtdl) -> None:
    rtdl.append(make_decision(0), make_decision(1))
    part = AuditPartition(LOG, TOPIC, 0)
    with pytest.raises(ValueError, match="once, in order"):
        part.apply(rtdl.records[1])

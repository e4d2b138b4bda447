"""Lookup by decision, event and action id; the HTTP handler's answers; the whole-log read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.dla.lookup import AuditIndex, read_audit_anomalies, read_audit_records
from app.dla.segments import index_key_of, list_segments
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.decision import ActionType
from app.runtime.audit_api import audit_lookup
from tests.unit.dla.conftest import Rtdl, make_decision, make_outcome, write_log

TWO = (ActionType.DECLINE_AUTH, ActionType.OPEN_CASE)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LocalObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


async def _corrected_log(store: ObjectStore) -> Rtdl:
    """Partition 0: decision 0 audited, then corrected; decision 1 audited; an orphan outcome."""
    rtdl = Rtdl()
    d0, d1 = make_decision(0, TWO), make_decision(1)
    rtdl.append(d0, make_outcome(d0, 0), make_outcome(d0, 1), d1, make_outcome(d1),
                make_outcome(d0, 1, "FAILED"), make_outcome(make_decision(9)))
    await write_log(store, rtdl)
    return rtdl


async def test_each_id_kind_resolves_to_the_chain_latest_first(store: ObjectStore) -> None:
    await _corrected_log(store)
    d0 = make_decision(0, TWO)
    index = AuditIndex()
    for kind, id_ in (("decision", d0.decision_id), ("event", d0.trigger.event_id),
                      ("action", d0.intents[1].action_id)):
        records = await index.resolve(store, kind, id_)  # type: ignore[arg-type]  # literal
        assert [r.decision_id for r in records] == [d0.decision_id] * 2
        assert records[0].supersedes == records[1].audit_id
        assert records[0].intents[1].status == "FAILED"
    assert await index.resolve(store, "decision", "0" * 64) == []
    kind, records = await index.find(store, d0.intents[0].action_id) or ("", [])
    assert kind == "action" and len(records) == 2


async def test_index_picks_up_new_segments_incrementally(store: ObjectStore) -> None:
    index = AuditIndex()
    assert await index.poll(store) == 0
    rtdl = Rtdl()
    first = make_decision(0)
    rtdl.append(first, make_outcome(first))
    part = await write_log(store, rtdl)
    assert await index.poll(store) == 1
    second = make_decision(1)
    for record in rtdl.append(second, make_outcome(second)):
        part.apply(record)
    await part.flush(store, "2025-01-01T00:00:01.000000Z")
    assert await index.poll(store) == 1 and await index.poll(store) == 0
    assert len(await index.resolve(store, "decision", second.decision_id)) == 1


async def test_a_segment_without_its_index_is_still_found(store: LocalObjectStore) -> None:
    await _corrected_log(store)
    [key] = await list_segments(store, "fp.bus.rtdl.v1.e0", 0)
    store.path_for(index_key_of(key)).unlink()  # a crash between the segment and its index
    d1 = make_decision(1)
    assert len(await AuditIndex().resolve(store, "event", d1.trigger.event_id)) == 1
    assert not await store.exists(index_key_of(key))  # readers never write


async def test_read_audit_records_returns_every_version_once(store: ObjectStore) -> None:
    await _corrected_log(store)
    await _corrected_log(store)  # the same log again: same bytes, a no-op
    records = await read_audit_records(store)
    assert len(records) == 3 and len({r.audit_id for r in records}) == 3
    [orphan] = await read_audit_anomalies(store)
    assert orphan.reason_code == "OUTCOME_WITHOUT_DECISION"


@pytest.mark.parametrize(("kind", "id_", "status"), [
    ("decision", "nothex", 400), ("event", "A" * 64, 400), ("action", "0" * 64, 404),
    ("case", "0" * 64, 404)])
async def test_api_refuses_malformed_and_unknown_ids(store: ObjectStore, kind: str, id_: str,
                                                     status: int) -> None:
    answer, body = await audit_lookup(AuditIndex(), store, kind, id_)
    assert answer == status and "error" in body


async def test_api_answers_with_the_records(store: ObjectStore) -> None:
    await _corrected_log(store)
    d1 = make_decision(1)
    status, body = await audit_lookup(AuditIndex(), store, "decision", d1.decision_id)
    assert status == 200
    assert [r["decision_id"] for r in body["records"]] == [d1.decision_id]
    assert body["records"][0]["intents"][0]["status"] == "EXECUTED"

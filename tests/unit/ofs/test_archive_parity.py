"""Parity from the object store: IG's admitted-traffic archive gives the rebuild exactly the
traffic log a bus read gives, and hash parity against DLA's audit log agrees with the bus's
parity on the same records (it only lacks the per-feature detail)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.ofs import ParityInputError, rebuild_snapshots
from app.ofs.archive_source import (
    archive_exists,
    parity_from_archive,
    read_archived_run,
    traffic_of_archive,
)
from app.ofs.parity import ParityReport
from app.ofs.run import parity_of_run, traffic_records
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import snapshot_hash_of
from app.rails.posture import Posture
from tests.unit.ofs.stored import archive_log, audit_decisions
from tests.unit.ofs.world import OTHER_RUN, PROFILE, RUN, as_read_back, small_world

POLICY, REV = PROFILE.policy.decision, PROFILE.policy_rev
LOG, ONLINE = small_world()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        await archive_log(s, LOG)
        yield s


def _of_run(run_id: str) -> list[tuple[int, int, bytes, bool]]:
    return sorted((r.partition, r.offset, r.value, r.watermark) for r in LOG
                  if orjson.loads(r.value)["run_id"] == run_id)


def from_bus(rtdl: list[bytes]) -> ParityReport:
    return parity_of_run(RUN, traffic_records(as_read_back(LOG)), rtdl, policy=POLICY,
                         policy_rev=REV)


async def from_archive(store: ObjectStore) -> ParityReport:
    return await parity_from_archive(store, RUN, policy=POLICY, policy_rev=REV)


def _bumped(index: int) -> list[bytes]:
    """The online rtdl with RUN's ``index``-th decision recording another card.count_24h
    (and the hash of that), as a fold that saw other traffic would have."""
    out, seen = [], 0
    for value in ONLINE.rtdl:
        body = orjson.loads(value)
        if body["pins"]["run_id"] == RUN:
            if seen == index:
                body["snapshot"]["values"]["card.count_24h"] += 1
                body["snapshot"]["snapshot_hash"] = snapshot_hash_of(body["snapshot"])
            seen += 1
        out.append(canonical_dumps(body))
    return out


async def test_the_archive_is_the_runs_traffic_log_with_its_offsets(store: ObjectStore) -> None:
    for run_id in (RUN, OTHER_RUN):
        run = await read_archived_run(store, run_id)
        rebuilt = traffic_of_archive(run.partitions)
        assert sorted((r.partition, r.offset, r.value, r.watermark)
                      for r in rebuilt) == _of_run(run_id)
        assert any(r.watermark for r in rebuilt)
        spans = {s.partition: (s.generation, s.first_offset, s.next_offset)
                 for s in run.spans()}
        assert spans == {p: ("g1", min(o for q, o, _, _ in _of_run(run_id) if q == p),
                             max(o for q, o, _, _ in _of_run(run_id) if q == p) + 1)
                         for p in {q for q, _, _, _ in _of_run(run_id)}}


async def test_the_rebuild_from_the_archive_equals_the_rebuild_from_the_bus(
        store: ObjectStore) -> None:
    postures = {d["trigger"]["event_id"]: Posture(d["posture"]) for d in ONLINE.decisions()}
    archived = (await read_archived_run(store, RUN)).traffic()
    on_bus = traffic_records(as_read_back(LOG))
    a, b = (rebuild_snapshots(t, RUN, policy=POLICY, policy_rev=REV, postures=postures)
            for t in (archived, on_bus))
    assert a.snapshots == b.snapshots and len(a.snapshots) == len(ONLINE.decisions())
    assert (a.events, a.anomalies, a.late) == (b.events, b.anomalies, b.late)


async def test_archive_parity_agrees_with_bus_parity(store: ObjectStore) -> None:
    await audit_decisions(store, ONLINE.rtdl)
    bus, archive = from_bus(ONLINE.rtdl), await from_archive(store)
    assert archive.ok and bus.ok
    for field in ("decisions", "equal", "share_equal", "not_rebuilt", "not_decided",
                  "unequal", "duplicate_decisions"):
        assert getattr(archive, field) == getattr(bus, field), field
    assert archive.decisions == len(ONLINE.decisions()) > 100
    assert (archive.source, archive.per_feature, archive.features) == ("archive", False, {})
    assert (bus.source, bus.per_feature) == ("bus", True) and bus.features
    assert archive.notes["traffic events"] == bus.notes["traffic events"]
    doc = archive.to_dict()
    assert (doc["ok"], doc["share_equal"], doc["per_feature"], doc["source"]) == (
        True, 1.0, False, "archive")
    lines = archive.lines()
    assert "100.00 %" in lines[0] and "no per-feature detail" in lines[-1]


async def test_a_recorded_hash_the_rebuild_does_not_reproduce_is_unequal_on_both_sources(
        store: ObjectStore) -> None:
    rtdl = _bumped(5)
    await audit_decisions(store, rtdl)
    bus, archive = from_bus(rtdl), await from_archive(store)
    trigger = ONLINE.decisions()[5]["trigger"]["event_id"]
    assert archive.unequal == bus.unequal == (trigger,)
    assert archive.equal == bus.equal == archive.decisions - 1
    assert not archive.ok and archive.to_dict()["ok"] is False
    assert archive.share_equal < 1.0 and "100.00 %" not in archive.lines()[0]
    assert bus.features["card.count_24h"].mismatches == 1  # the detail only the bus has


async def test_a_decision_dla_never_audited_is_rebuilt_but_not_decided(
        store: ObjectStore) -> None:
    first = ONLINE.decisions()[0]["trigger"]["event_id"]
    rtdl = [v for v in ONLINE.rtdl if orjson.loads(v)["trigger"]["event_id"] != first]
    await audit_decisions(store, rtdl)
    archive = await from_archive(store)
    assert archive.not_decided == from_bus(rtdl).not_decided == (first,)
    assert archive.share_equal == 1.0 and not archive.ok


async def test_a_run_without_audit_records_or_archive_is_bad_input(store: ObjectStore) -> None:
    assert await archive_exists(store, RUN) and not await archive_exists(store, "0" * 32)
    with pytest.raises(ParityInputError, match=r"no decisions of run \w+ in the audit log"):
        await from_archive(store)
    await audit_decisions(store, ONLINE.rtdl)
    with pytest.raises(ParityInputError, match="no decisions"):
        await parity_from_archive(store, "0" * 32, policy=POLICY, policy_rev=REV)
    with pytest.raises(ParityInputError, match="32 lowercase hex"):
        await parity_from_archive(store, "RUN", policy=POLICY, policy_rev=REV)

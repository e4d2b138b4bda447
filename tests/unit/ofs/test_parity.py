"""The offline feature function reproduces every snapshot the online fold emitted, from any
partition interleaving, and parity names what differs: per feature, and per trigger side."""

from __future__ import annotations

import random

import orjson
import pytest

from app.ofs import ParityInputError, TrafficRecord, rebuild_snapshots
from app.ofs.run import interleave, parity_of_run, traffic_records
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import snapshot_hash_of
from app.rails.posture import Posture
from tests.unit.ofs.world import (
    OTHER_RUN,
    PROFILE,
    RUN,
    as_read_back,
    decide_online,
    small_world,
    traffic_log,
)

POLICY, REV = PROFILE.policy.decision, PROFILE.policy_rev
LOG, ONLINE = small_world()


def parity(rtdl: list[bytes], log: list[TrafficRecord] | None = None, run_id: str = RUN):
    """Parity of ``run_id`` from partitions read one after another (not the online order)."""
    traffic = traffic_records(as_read_back(LOG if log is None else log))
    return parity_of_run(run_id, traffic, rtdl, policy=POLICY, policy_rev=REV)


def shuffled_partitions(log: list[TrafficRecord], seed: int) -> list[TrafficRecord]:
    """A random interleaving of the partitions, each kept in its own offset order."""
    rng = random.Random(seed)
    queues = {p: [r for r in log if r.partition == p] for p in {r.partition for r in log}}
    out: list[TrafficRecord] = []
    while queues:
        p = rng.choice(sorted(queues))
        out.append(queues[p].pop(0))
        if not queues[p]:
            del queues[p]
    return out


def tampered(index: int, edit) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The online rtdl with the ``index``-th decision of RUN edited by ``edit(body)``."""
    out, seen = [], 0
    for value in ONLINE.rtdl:
        body = orjson.loads(value)
        if body["pins"]["run_id"] == RUN:
            if seen == index:
                edit(body)
            seen += 1
        out.append(canonical_dumps(body))
    return out


def test_the_world_has_both_postures_and_both_runs() -> None:
    decisions = ONLINE.decisions()
    postures = {d["posture"] for d in decisions}
    assert postures == {"NORMAL", "DEGRADED"}
    assert ONLINE.decisions(OTHER_RUN)
    assert any(k.startswith("graph.") for d in decisions for k in d["snapshot"]["values"])


def test_every_recorded_snapshot_is_rebuilt_equal_from_another_interleaving() -> None:
    report = parity(ONLINE.rtdl)
    assert report.decisions == len(ONLINE.decisions()) > 100
    assert report.equal == report.decisions and report.share_equal == 1.0 and report.ok
    assert not report.not_rebuilt and not report.not_decided and not report.unequal
    assert report.basis_only == 0
    assert report.features and not any(f.differs for f in report.features.values())
    assert "100.00 %" in report.lines()[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_partition_interleaving_gives_the_same_snapshots(seed: int) -> None:
    postures = {d["trigger"]["event_id"]: Posture(d["posture"]) for d in ONLINE.decisions()}
    rebuilt = [rebuild_snapshots(order, RUN, policy=POLICY, policy_rev=REV, postures=postures)
               for order in (shuffled_partitions(LOG, seed), interleave(LOG, chunk=7))]
    expected = {d["trigger"]["event_id"]: d["snapshot"]["snapshot_hash"]
                for d in ONLINE.decisions()}
    for rebuild in rebuilt:
        assert {k: s.snapshot_hash for k, s in rebuild.snapshots.items()} == expected
        assert rebuild.anomalies == 0 and rebuild.late == 0


def test_each_trigger_is_rebuilt_under_its_recorded_posture() -> None:
    degraded = next(d for d in ONLINE.decisions() if d["posture"] == "DEGRADED")
    trigger = degraded["trigger"]["event_id"]
    for postures, equal in (({trigger: Posture.DEGRADED}, True), ({}, False)):  # default NORMAL
        rebuild = rebuild_snapshots(LOG, RUN, policy=POLICY, policy_rev=REV, postures=postures)
        rebuilt = rebuild.snapshots[trigger]
        assert (rebuilt.snapshot_hash == degraded["snapshot"]["snapshot_hash"]) is equal
        assert any(k.startswith("graph.") for k in rebuilt.values) is not equal


def test_graph_features_the_online_posture_left_out_are_extra() -> None:
    relabelled = [canonical_dumps(b | {"posture": "NORMAL"}) for b in map(orjson.loads,
                                                                          ONLINE.rtdl)]
    report = parity(relabelled)
    graph = [n for n in report.features if n.startswith("graph.")]
    assert graph and all(report.features[n].extra > 0 for n in graph)
    assert all(f.mismatches == f.missing == 0 for f in report.features.values())
    assert 0 < report.equal < report.decisions


def test_late_triggers_are_rebuilt_late_and_equal() -> None:
    log = traffic_log(late=(60, 150))
    online = decide_online(log)
    late = [d for d in online.decisions() if "LATE_TRIGGER" in d["reason_codes"]]
    assert len(late) == 2 and not any(d["snapshot"]["complete"] for d in late)
    report = parity(online.rtdl, log=log)
    assert report.ok and report.notes["late triggers offline"] == 2


def rehash(body: dict) -> None:  # type: ignore[type-arg]
    """Recompute the recorded snapshot's hash, as a fold that saw other values would have."""
    body["snapshot"]["snapshot_hash"] = snapshot_hash_of(body["snapshot"])


@pytest.mark.parametrize("hashed", [True, False], ids=["rehashed", "behind-its-hash"])
def test_a_tampered_value_is_reported_for_that_feature_only(hashed: bool) -> None:
    def bump(body: dict) -> None:  # type: ignore[type-arg]
        body["snapshot"]["values"]["card.count_24h"] += 1
        if hashed:
            rehash(body)

    report = parity(tampered(5, bump))
    assert report.equal == report.decisions - 1 and not report.ok
    assert report.unequal == (ONLINE.decisions()[5]["trigger"]["event_id"],)
    differs = {name: f for name, f in report.features.items() if f.differs}
    assert set(differs) == {"card.count_24h"}
    assert (differs["card.count_24h"].mismatches, differs["card.count_24h"].missing,
            differs["card.count_24h"].extra) == (1, 0, 0)
    assert any(line.startswith("card.count_24h") for line in report.lines())
    assert "100.00 %" not in report.lines()[0]


def test_a_changed_value_type_is_a_mismatch() -> None:
    def as_float(body: dict) -> None:  # type: ignore[type-arg]
        values = body["snapshot"]["values"]
        values["card.count_24h"] = float(values["card.count_24h"])
        rehash(body)

    report = parity(tampered(3, as_float))
    assert report.features["card.count_24h"].mismatches == 1


def test_missing_and_extra_features_are_told_apart() -> None:
    def drop_and_add(body: dict) -> None:  # type: ignore[type-arg]
        values = body["snapshot"]["values"]
        del values["card.count_24h"]  # offline has it, online lacks it: extra
        values["card.imaginary_1h"] = 3  # online has it, offline lacks it: missing
        rehash(body)

    report = parity(tampered(7, drop_and_add))
    assert report.features["card.count_24h"].extra == 1
    assert report.features["card.imaginary_1h"].missing == 1
    assert report.decisions - report.equal == 1


def test_a_decision_whose_trigger_is_not_in_the_traffic_is_reported() -> None:
    ghost = ONLINE.decisions()[0]
    ghost["trigger"]["event_id"] = "f" * 64
    report = parity([*ONLINE.rtdl, canonical_dumps(ghost)])
    assert report.not_rebuilt == ("f" * 64,)
    assert report.decisions == len(ONLINE.decisions()) + 1 and not report.ok
    assert report.equal == report.decisions - 1


def test_a_trigger_rebuilt_but_never_decided_is_reported() -> None:
    first = ONLINE.decisions()[0]["trigger"]["event_id"]
    rtdl = [v for v in ONLINE.rtdl if orjson.loads(v)["trigger"]["event_id"] != first]
    report = parity(rtdl)
    assert report.not_decided == (first,)
    assert report.share_equal == 1.0 and not report.ok


def test_a_repeated_decision_is_counted_once() -> None:
    report = parity([*ONLINE.rtdl, ONLINE.rtdl[0]])
    assert report.ok and report.duplicate_decisions == 1


def test_a_run_without_decisions_or_traffic_is_bad_input() -> None:
    with pytest.raises(ParityInputError, match="no decisions"):
        parity(ONLINE.rtdl, run_id="0" * 32)
    ours = [v for v in ONLINE.rtdl if orjson.loads(v)["pins"]["run_id"] == RUN]
    others = [r for r in LOG if RUN.encode() not in r.value]
    with pytest.raises(ParityInputError, match="no traffic"):
        parity(ours, log=others)
    with pytest.raises(ParityInputError, match="32 lowercase hex"):
        parity(ONLINE.rtdl, run_id="not-a-run")


def test_unreadable_decisions_are_counted_not_fatal() -> None:
    report = parity([*ONLINE.rtdl, b"{not json", canonical_dumps(
        {"record_type": "decision", "pins": {"run_id": RUN}})])
    assert report.ok and report.notes["unreadable decisions"] == 2


def test_a_partition_out_of_offset_order_is_refused() -> None:
    backwards = [LOG[2], LOG[0]] if LOG[0].partition == LOG[2].partition else None
    records = backwards or sorted(LOG, key=lambda r: (r.partition, -r.offset))[:2]
    with pytest.raises(ValueError, match="offset order"):
        rebuild_snapshots(records, RUN, policy=POLICY, policy_rev=REV, postures={})

"""``fp labels export``: a run's labels as known at T (rows, order, the active / verdict / unknown
flow flags), its Parquet file (schema, round trip, same rows -> same bytes) and the command
against a profile whose object store lives in the test's tmp_path; ``fp labels show`` flagging a
label for a flow the run's admitted traffic does not have."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from app.cli.labels_cmd import default_export_path
from app.cli.main import main
from app.ig.archive import write_archive
from app.labels.export import EXPORT_SCHEMA, export_rows, summarize, write_parquet
from app.labels.known_flows import known_flows
from app.labels.partition import LabelPartition
from app.labels.timeline import LabelTimelines
from app.objectstore.local import LocalObjectStore
from app.rails.archive import ArchivedRecord
from app.rails.envelope import dump_envelope
from app.rails.timefmt import epoch_micros_to_ts
from app.rails.watermark import TrafficWatermark
from tests.factories import (
    _T0_MICROS,
    make_envelope,
    make_label_assertion,
    make_payload,
    make_pins,
    tmp_profile,
)
from tests.unit.labels.test_label_stage import LOG, TOPIC, label_event

RUN = make_pins()["run_id"]
OTHER = make_pins(request="run-2")["run_id"]
F2, F4, F9 = "flow_000000000002", "flow_000000000004", "flow_000000000009"


def at(seconds: int) -> int:
    """Epoch micros ``seconds`` after the factories' T0 (2024-03-01T12:00:00Z)."""
    return _T0_MICROS + seconds * 1_000_000


@pytest.fixture
def timelines() -> LabelTimelines:
    t = LabelTimelines()
    t.extend([
        # flow 4: detected as fraud at +1 h, cleared (same type, a revision) at +2 h
        make_label_assertion(4, kind=1, label_value="legit", observed_s=7200),
        make_label_assertion(4, kind=0, label_value="fraud", observed_s=3600),
        # flow 2: a detection at +50 min, then a chargeback (another type) at +1 h 30
        make_label_assertion(2, kind=0, label_value="fraud", observed_s=3000),
        make_label_assertion(2, kind=1, label_type="chargeback", label_value="fraud",
                             observed_s=5400),
        # flow 9: labelled, but not in the run's traffic
        make_label_assertion(9, kind=0, label_value="abuse", observed_s=600),
        # another run's label on flow 4: never in this run's export
        make_label_assertion(4, kind=0, pins=make_pins(request="run-2"), observed_s=60),
    ])
    return t


def _flags(rows: list[dict[str, Any]]) -> list[tuple[str, str, bool, bool, bool]]:
    return [(r["flow_id"], r["label_id"][-1], r["active"], r["is_verdict"], r["flow_known"])
            for r in rows]


def test_rows_order_active_and_verdict_as_known_at_t(timelines: LabelTimelines) -> None:
    rows = export_rows(timelines, RUN, at(3 * 3600), frozenset({F2, F4}))
    assert {r["run_id"] for r in rows} == {RUN}
    # (flow id, timeline order); the superseded detection of flow 4 is kept, not active
    assert _flags(rows) == [(F2, "0", True, False, True), (F2, "1", True, True, True),
                            (F4, "0", False, False, True), (F4, "1", True, True, True),
                            (F9, "0", True, True, False)]
    assert [r["label_value"] for r in rows if r["flow_id"] == F4] == ["fraud", "legit"]
    first = rows[2]
    assert (first["observed_ts_utc"], first["observed_us"]) == (epoch_micros_to_ts(at(3600)),
                                                                at(3600))
    assert (first["effective_ts_utc"], first["effective_us"]) == (epoch_micros_to_ts(at(0)),
                                                                  at(0))
    assert (first["card_id"], first["account_id"], first["source"], first["label_type"]) == (
        "card_00000004", "acct_00000004", "label_feed", "post_auth_detection")
    assert summarize(rows).__dict__ == {"rows": 5, "flows": 3, "unknown_flow_rows": 1}


def test_an_earlier_as_of_sees_the_earlier_word(timelines: LabelTimelines) -> None:
    # +1 h 10 min: flow 4's clearance and flow 2's chargeback are not known yet
    rows = export_rows(timelines, RUN, at(4200), frozenset({F2, F4}))
    assert _flags(rows) == [(F2, "0", True, True, True), (F4, "0", True, True, True),
                            (F9, "0", True, True, False)]
    # exactly at an observed time counts (at or before T)
    assert len(export_rows(timelines, RUN, at(7200), frozenset())) == 5
    assert len(export_rows(timelines, RUN, at(7200) - 1, frozenset())) == 4
    assert export_rows(timelines, RUN, at(599), frozenset({F9})) == []
    assert export_rows(timelines, "f" * 32, at(10**6), frozenset()) == []


def test_parquet_round_trip_and_same_rows_same_bytes(timelines: LabelTimelines,
                                                     tmp_path: Path) -> None:
    rows = export_rows(timelines, RUN, at(3 * 3600), frozenset({F2, F4}))
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    assert write_parquet(rows, one) == summarize(rows)
    write_parquet(export_rows(timelines, RUN, at(3 * 3600), frozenset({F2, F4})), two)
    assert one.read_bytes() == two.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.parquet", "two.parquet"]
    table = pq.read_table(one)
    assert table.schema.equals(EXPORT_SCHEMA)
    assert table.to_pylist() == rows
    assert set(pq.read_metadata(one).metadata) == {b"ARROW:schema"}  # nothing that varies
    flipped = [dict(r, flow_known=True) for r in rows]
    write_parquet(flipped, two)
    assert one.read_bytes() != two.read_bytes()


def _record(offset: int, partition: int, payload_of: tuple[str, int] | None,
            run: str = "run-1") -> ArchivedRecord:
    pins = make_pins(request=run)
    if payload_of is None:
        mark = TrafficWatermark(run_id=pins["run_id"], partition=partition, partitions=2,
                                final=True, watermark_ts_utc=None)
        return ArchivedRecord(stream="traffic", partition=partition, offset=offset,
                              partition_key=mark.run_id, ingress_partition=0,
                              record=mark.model_dump(mode="json"), kind="watermark")
    event_type, flow = payload_of
    env = make_envelope(flow, event_type=event_type, pins=pins,
                        payload=make_payload(event_type, flow))
    return ArchivedRecord(stream="traffic", partition=partition, offset=offset,
                          partition_key=f"k{flow}", ingress_partition=0,
                          record=orjson.loads(dump_envelope(env)))


async def _write_traffic(store: LocalObjectStore) -> None:
    """Run 1 admitted flow 4's authorisation, flow 2's clearing and a watermark; run 2 flow 9."""
    await write_archive(store, "g1", [
        _record(0, 0, ("auth_request", 4)), _record(1, 0, None),
        _record(0, 1, ("clearing", 2)), _record(0, 0, ("auth_request", 9), run="run-2")])


async def test_known_flows_are_the_runs_admitted_traffic(tmp_path: Path) -> None:
    async with LocalObjectStore(tmp_path / "objects") as store:
        assert await known_flows(store, RUN) == frozenset()
        await _write_traffic(store)
        assert await known_flows(store, RUN) == frozenset({F2, F4})
        assert await known_flows(store, OTHER) == frozenset({F9})


@pytest.fixture
def profile(tmp_path: Path) -> str:
    """Flow 4 detected as fraud (+1 h) then cleared (+2 h); flow 9 labelled but never admitted
    as traffic; flow 2 admitted but never labelled."""
    path = tmp_profile(tmp_path)

    async def write() -> None:
        part = LabelPartition(LOG, TOPIC, 0)
        part.apply(0, label_event(4, kind=0, value="fraud", observed_s=3600))
        part.apply(1, label_event(4, kind=1, value="legit", observed_s=7200))
        part.apply(2, label_event(9, kind=0, value="abuse", observed_s=3600))
        async with LocalObjectStore(tmp_path / "objects") as store:
            await part.flush(store)
            await _write_traffic(store)

    asyncio.run(write())
    return str(path)


def _fp(profile: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--profile", profile, "labels", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_writes_the_runs_labels(profile: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "labels.parquet"
    code, stdout, _ = _fp(profile, capsys, "export", "--run-id", RUN, "--as-of",
                          "2024-03-02T00:00:00.000000Z", "--out", str(out))
    assert code == 0
    rows = pq.read_table(out).to_pylist()
    assert [(r["flow_id"], r["label_value"], r["active"], r["is_verdict"], r["flow_known"])
            for r in rows] == [(F4, "fraud", False, False, True), (F4, "legit", True, True, True),
                               (F9, "abuse", True, True, False)]
    assert stdout.split() == ["rows", "3", "flows", "2", "unknown-flow", "rows", "1", "->",
                              str(out)]


def test_export_default_path_in_the_working_directory(
        profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert default_export_path(RUN, "2024-03-01T13:30:00.000000Z") == Path(
        f"labels-{RUN[:12]}-20240301T133000Z.parquet")
    assert default_export_path(RUN, "2024-03-01T13:30:00.250000Z") == Path(
        f"labels-{RUN[:12]}-20240301T133000.250000Z.parquet")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # +1 h 30 min: flow 4's detection and flow 9's label (T0 + flow s + 1 h), not the clearance
    code, _, _ = _fp(profile, capsys, "export", "--run-id", RUN, "--as-of",
                     "2024-03-01T13:30:00.000000Z")
    assert code == 0
    [written] = list(work.iterdir())
    assert written.name == f"labels-{RUN[:12]}-20240301T133000Z.parquet"
    assert [(r["flow_id"], r["label_value"]) for r in pq.read_table(written).to_pylist()] == [
        (F4, "fraud"), (F9, "abuse")]


def test_export_exit_codes(profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # nothing of the run known yet (the first label is observed at T0 + 4 s + 1 h): exit 1
    code, _, err = _fp(profile, capsys, "export", "--run-id", RUN, "--as-of",
                       "2024-03-01T12:30:00.000000Z")
    assert code == 1 and "nothing written" in err
    assert _fp(profile, capsys, "export", "--run-id", "f" * 32, "--as-of",
               "2024-03-02T00:00:00.000000Z")[0] == 1
    code, _, err = _fp(profile, capsys, "export", "--run-id", RUN.upper(), "--as-of",
                       "2024-03-02T00:00:00.000000Z")
    assert code == 2 and "RUN_ID_INVALID" in err
    code, _, err = _fp(profile, capsys, "export", "--run-id", RUN, "--as-of", "tomorrow")
    assert code == 2 and "TS_FORMAT_INVALID" in err
    assert list(work.iterdir()) == []


def test_show_flags_a_label_for_an_unknown_flow(profile: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _fp(profile, capsys, "show", "flow_000000000009", "--json")
    assert code == 0
    [flow] = orjson.loads(out)["flows"]
    assert (flow["flow_known"], flow["verdict"]) == (False, "abuse")  # kept, flagged
    code, out, _ = _fp(profile, capsys, "show", "flow_000000000004", "--json")
    assert [f["flow_known"] for f in orjson.loads(out)["flows"]] == [True]
    code, out, _ = _fp(profile, capsys, "show", "flow_000000000009")
    assert code == 0 and "UNKNOWN FLOW" in out.splitlines()[0]
    code, out, _ = _fp(profile, capsys, "show", "flow_000000000004")
    assert code == 0 and "UNKNOWN FLOW" not in out

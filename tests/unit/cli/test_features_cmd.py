"""``fp features parity``: the report on stdout, exit 0 / 1 / 2, against a recorded bus
(``--source bus``) and against the object store (``--source archive``, the default when the run
was archived: IG's archive and DLA's audit log in a profile whose store is the test's)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from app.cli import features_cmd
from app.cli.main import main
from app.eb.topics import Topic
from app.objectstore.local import LocalObjectStore
from app.ofs import bus
from app.ofs.run import LogRecord
from app.profiles.loader import Profile
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import snapshot_hash_of
from tests.factories import tmp_profile
from tests.unit.ofs.stored import archive_log, audit_decisions, store_world
from tests.unit.ofs.world import RUN, FakeRecord, as_read_back, small_world


def _recorded(rtdl: list[bytes]) -> bus.TopicReader:
    log, _ = small_world()

    async def read(profile: Profile, topic: Topic) -> Sequence[LogRecord]:
        if topic is Topic.TRAFFIC:
            return as_read_back(log)
        return [FakeRecord(0, n, value) for n, value in enumerate(rtdl)]

    return read


def _run(monkeypatch: pytest.MonkeyPatch, rtdl: list[bytes], *argv: str) -> int:
    monkeypatch.setattr(features_cmd, "parity_for_run",
                        functools.partial(bus.parity_for_run, reader=_recorded(rtdl)))
    return main(["features", "parity", "--source", "bus", *argv])


def test_full_parity_exits_zero(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    _, online = small_world()
    assert _run(monkeypatch, online.rtdl, "--run-id", RUN) == 0
    out = capsys.readouterr().out
    assert f"run {RUN}" in out and "100.00 %" in out


def test_a_mismatch_exits_one_and_names_the_feature(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _, online = small_world()
    body = orjson.loads(online.rtdl[0])
    body["snapshot"]["values"]["card.count_24h"] += 7
    rtdl = [canonical_dumps(body), *online.rtdl[1:]]
    assert _run(monkeypatch, rtdl, "--run-id", body["pins"]["run_id"], "--json") == 1
    report = orjson.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["features"]["card.count_24h"]["mismatches"] == 1


def test_an_unknown_run_is_one_error_line_and_exit_two(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _, online = small_world()
    assert _run(monkeypatch, online.rtdl, "--run-id", "0" * 32) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fp: error [PARITY_INPUT_INVALID]: no decisions")
    assert _run(monkeypatch, online.rtdl, "--run-id", "RUN") == 2


@pytest.fixture
def archived_profile(tmp_path: Path) -> str:
    """A profile whose object store holds the small world's archive and audit log."""
    path = tmp_profile(tmp_path)

    async def write() -> None:
        async with LocalObjectStore(tmp_path / "objects") as store:
            await store_world(store)

    asyncio.run(write())
    return str(path)


def test_an_archived_run_is_compared_from_the_object_store_by_default(
        archived_profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--profile", archived_profile, "features", "parity", "--run-id", RUN,
                 "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert (report["source"], report["ok"], report["share_equal"], report["per_feature"]) == (
        "archive", True, 1.0, False)
    assert main(["--profile", archived_profile, "features", "parity", "--run-id", RUN,
                 "--source", "archive"]) == 0
    out = capsys.readouterr().out
    assert "100.00 %" in out and "no per-feature detail" in out


def test_archive_parity_below_full_exits_one(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_profile(tmp_path)
    log, online = small_world()
    body = orjson.loads(online.rtdl[0])
    body["snapshot"]["values"]["card.count_24h"] += 7
    body["snapshot"]["snapshot_hash"] = snapshot_hash_of(body["snapshot"])

    async def write() -> None:
        async with LocalObjectStore(tmp_path / "objects") as store:
            await archive_log(store, log)
            await audit_decisions(store, [canonical_dumps(body), *online.rtdl[1:]])

    asyncio.run(write())
    run_id = body["pins"]["run_id"]
    assert main(["--profile", str(path), "features", "parity", "--run-id", run_id,
                 "--json"]) == 1
    report = orjson.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["unequal"] == [body["trigger"]["event_id"]]
    assert report["share_equal"] < 1.0


def test_archive_source_without_audit_records_is_exit_two(
        archived_profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--profile", archived_profile, "features", "parity", "--run-id", "0" * 32,
                 "--source", "archive"])
    assert code == 2
    assert "PARITY_INPUT_INVALID" in capsys.readouterr().err

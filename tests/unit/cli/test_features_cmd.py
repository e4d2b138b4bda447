"""``fp features parity``: the report on stdout, exit 0 / 1 / 2, against a recorded bus."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import orjson
import pytest

from app.cli import features_cmd
from app.cli.main import main
from app.eb.topics import Topic
from app.ofs import bus
from app.ofs.run import LogRecord
from app.profiles.loader import Profile
from app.rails.canonical_json import canonical_dumps
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
    return main(["features", "parity", *argv])


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

"""``fp audit show`` against a profile whose object store lives in the test's tmp_path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
import yaml

from app.cli.main import main
from app.objectstore.local import LocalObjectStore
from app.profiles.loader import profile_path
from app.rails.decision import ActionType
from tests.unit.dla.conftest import Rtdl, make_decision, make_outcome, write_log

DECISION = make_decision(0, (ActionType.DECLINE_AUTH, ActionType.OPEN_CASE))


@pytest.fixture
def profile(tmp_path: Path) -> str:
    body = yaml.safe_load(profile_path("local").read_text())
    body["wiring"]["object_store"] = {"type": "local", "root": str(tmp_path / "objects")}
    body["wiring"]["broker"] = {"type": "tansu", "state_dir": str(tmp_path / "no-broker")}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(body))

    async def audit() -> None:
        rtdl = Rtdl()
        rtdl.append(DECISION, make_outcome(DECISION, 1, "FAILED"), make_outcome(DECISION, 0),
                    make_outcome(DECISION, 0, "DENIED", reason_codes=("KILL_SWITCH_ON",),
                                 attempts=(), side_effect_ref=None))
        async with LocalObjectStore(tmp_path / "objects") as store:
            await write_log(store, rtdl)

    asyncio.run(audit())
    return str(path)


def fp(profile: str, *args: str) -> int:
    return main(["--profile", profile, "audit", "show", *args])


def test_show_prints_the_whole_chain_with_its_history(profile: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert fp(profile, DECISION.decision_id) == 0
    out = capsys.readouterr().out
    assert f"decision   {DECISION.decision_id}" in out
    assert DECISION.trigger.event_id in out and DECISION.snapshot.snapshot_hash in out
    assert "DECLINE_AUTH" in out and "OPEN_CASE" in out
    assert "DENIED  reasons KILL_SWITCH_ON  attempts 0" in out
    assert "FAILED  reasons EXECUTOR_REJECTED  attempts 1" in out
    assert "history    newest first" in out and "OUTCOME_CONFLICT" in out


def test_show_finds_a_chain_by_event_and_action_id_as_json(
        profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    for id_, kind in ((DECISION.trigger.event_id, "event"),
                      (DECISION.intents[1].action_id, "action")):
        assert fp(profile, id_, "--json") == 0
        body = orjson.loads(capsys.readouterr().out)
        assert body["kind"] == kind and len(body["records"]) == 2
        assert body["records"][0]["supersedes"] == body["records"][1]["audit_id"]


def test_full_without_a_broker_says_so_and_shows_the_audit_record(
        profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert fp(profile, DECISION.decision_id, "--full") == 0
    captured = capsys.readouterr()
    assert "the bus is not reachable" in captured.err
    assert DECISION.decision_id in captured.out


def test_unknown_id_exits_1(profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert fp(profile, "0" * 64) == 1
    assert f"no audit record for {'0' * 64}" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["1234", "Z" * 64, DECISION.decision_id.upper(), ""])
def test_malformed_id_is_a_clear_error_exit_2(profile: str, bad: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert fp(profile, bad) == 2
    assert "AUDIT_ID_MALFORMED" in capsys.readouterr().err

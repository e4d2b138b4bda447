"""``fp cases`` and ``fp labels show`` on one object store: a case opened for an OPEN_CASE intent
is claimed, resolved against the flow's bank label (an overturn: dual control), approved by a
second investigator; the Label Store shows the verdict as of after the approval, not before."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from app.cases.log import case_id_for_action, read_case
from app.cases.model import Case
from app.cases.opener import CaseOpener
from app.cli.main import main
from app.labels.partition import LabelPartition
from app.objectstore.local import LocalObjectStore
from app.rails.case import CaseState
from tests.factories import tmp_profile
from tests.unit.cases.test_case_log import ACTION, request
from tests.unit.labels.test_label_stage import LOG, TOPIC, label_event


@pytest.fixture
def profile(tmp_path: Path) -> str:
    path = tmp_profile(tmp_path)

    async def seed() -> None:  # flow 1: the bank says legit; the platform opened a case on it
        part = LabelPartition(LOG, TOPIC, 0)
        part.apply(0, label_event(1, kind=0, value="legit", observed_s=60))
        async with LocalObjectStore(tmp_path / "objects") as store:
            await part.flush(store)
            opener = CaseOpener(store)
            run_id = orjson.loads(label_event(1))["run_id"]
            await (await opener.execute([replace(request(), run_id=run_id)]))[0]

    asyncio.run(seed())
    return str(path)


def fp(profile: str, *args: str) -> int:
    return main(["--profile", profile, *args])


def test_dual_control_through_the_cli_and_the_verdict_as_of_in_the_label_store(
        profile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_id = case_id_for_action(ACTION)
    assert fp(profile, "cases", "claim", case_id, "--as", "ann") == 0
    assert fp(profile, "cases", "claim", case_id, "--as", "ann", "--version", "1") == 0  # again
    assert fp(profile, "cases", "note", case_id, "--as", "ann", "<script>alert(1)</script>") == 0
    assert fp(profile, "cases", "resolve", case_id, "--as", "bob", "--verdict", "fraud",
              "--note", "x") == 1  # not the assignee
    assert "403 CASE_NOT_ASSIGNEE" in capsys.readouterr().err
    assert fp(profile, "cases", "resolve", case_id, "--as", "ann", "--verdict", "fraud",
              "--note", "ring") == 0  # overturns the bank's legit: held for approval
    assert fp(profile, "cases", "approve", case_id, "--as", "ann") == 1
    assert "403 CASE_DUAL_CONTROL" in capsys.readouterr().err

    def case_now() -> Case:
        async def read() -> Case | None:
            async with LocalObjectStore(tmp_path / "objects") as store:
                return await read_case(store, case_id)
        case = asyncio.run(read())
        assert case is not None
        return case

    pending = case_now()
    assert pending.state is CaseState.PENDING_APPROVAL and pending.version == 4
    proposed_at = pending.events[-1].at_utc
    capsys.readouterr()
    assert fp(profile, "labels", "show", "flow_000000000001", "--json") == 0
    [flow] = orjson.loads(capsys.readouterr().out)["flows"]
    assert flow["verdict"] == "legit"  # a proposal asserts nothing
    assert fp(profile, "cases", "approve", case_id, "--as", "bob") == 0
    resolved = case_now()
    assert (resolved.state, resolved.verdict) == (CaseState.RESOLVED, "fraud")
    approved_at = resolved.events[-1].at_utc
    assert resolved.events[2].note == "<script>alert(1)</script>"  # kept as written
    capsys.readouterr()
    assert fp(profile, "labels", "show", "flow_000000000001", "--json") == 0
    [flow] = orjson.loads(capsys.readouterr().out)["flows"]
    assert flow["verdict"] == "fraud"
    assert flow["timeline"][-1]["source"] == "case"
    assert flow["timeline"][-1]["observed_ts_utc"] == approved_at
    assert fp(profile, "labels", "show", "flow_000000000001", "--as-of", proposed_at,
              "--json") == 0
    [flow] = orjson.loads(capsys.readouterr().out)["flows"]
    assert flow["verdict"] == "legit"  # as known before the approval
    assert fp(profile, "cases", "list", "--state", "RESOLVED") == 0
    assert case_id in capsys.readouterr().out

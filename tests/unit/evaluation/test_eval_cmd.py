"""``fp eval decisions`` over a READY SR run of the tiny world, with recorded rtdl values.

The broker is replaced at its one seam (``eval_cmd.read_rtdl``) by a recording of rtdl values,
so the ledger lookup, the truth gate check, truth loading and the scorecard all run for real.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from app.cli import eval_cmd
from app.cli.main import main
from app.evaluation import TruthRow, load_truth
from app.profiles.loader import Profile
from app.rails.canonical_json import canonical_dumps
from tests.unit.evaluation.conftest import MakeDecision, sr_run

Recording = Callable[[list[bytes | None]], None]


@pytest.fixture
def truth(tiny_world: Path) -> dict[str, TruthRow]:
    return asyncio.run(load_truth(str(tiny_world)))


@pytest.fixture
def record_rtdl(monkeypatch: pytest.MonkeyPatch) -> Recording:
    """``record_rtdl(values)``: the rtdl topic holds exactly ``values`` (no broker)."""

    def install(values: list[bytes | None]) -> None:
        async def read(profile: Profile) -> list[bytes | None]:
            return list(values)

        monkeypatch.setattr(eval_cmd, "read_rtdl", read)

    return install


def _rtdl(make_decision: MakeDecision, run_id: str,
          truth: dict[str, TruthRow]) -> list[bytes | None]:
    """Run ``run_id``: DECLINE on every fraud/abuse flow, APPROVE on 5 legit ones; plus noise."""
    fraud = sorted(f for f, r in truth.items() if r.is_fraud_or_abuse)
    legit = sorted(f for f, r in truth.items() if not r.is_fraud_or_abuse)[:5]
    mine = [make_decision(f, "DECLINE", score=0.9, run_id=run_id) for f in fraud]
    mine += [make_decision(f, "APPROVE", score=0.1, run_id=run_id) for f in legit]
    other_run = make_decision(legit[0], "DECLINE", request="someone-else")
    anomaly = {"record_type": "anomaly", "reason_code": "TRIGGER_UNREADABLE"}
    return [*(canonical_dumps(d) for d in [*mine, other_run, anomaly]), b"not json", None]


def test_only_this_runs_decisions_are_kept_and_noise_is_counted(
    make_decision: MakeDecision,
) -> None:
    mine = make_decision("f1", run_id="a" * 32)
    values = [canonical_dumps(mine), canonical_dumps(make_decision("f1")),
              canonical_dumps({"record_type": "decision"}), b"[1]", b"{", None,
              canonical_dumps({"record_type": "anomaly"})]
    decisions, unreadable = eval_cmd.decisions_of_run(values, "a" * 32)
    assert decisions == [mine]
    assert unreadable == 4  # pin-less decision, a JSON array, broken JSON, an empty value


def test_eval_run_scores_a_ready_run(eval_profile: Profile, ready_run: str,
                                     make_decision: MakeDecision, truth: dict[str, TruthRow],
                                     record_rtdl: Recording) -> None:
    record_rtdl(_rtdl(make_decision, ready_run, truth))
    evaluation, unreadable = asyncio.run(eval_cmd.eval_run(eval_profile, ready_run))
    frauds = sum(r.is_fraud_or_abuse for r in truth.values())
    assert (evaluation.run_id, evaluation.decisions, evaluation.unmatched) == (
        ready_run, frauds + 5, 0)
    assert unreadable == 2
    assert evaluation.recall == 1.0 and evaluation.precision == 1.0
    assert evaluation.legit.decided == 5 and evaluation.legit.friction == 0
    assert all(c.recall == 1.0 for c in evaluation.campaigns)


def test_cli_prints_the_table_with_every_subtype(
    eval_profile_path: Path, ready_run: str, make_decision: MakeDecision,
    truth: dict[str, TruthRow], record_rtdl: Recording, capsys: pytest.CaptureFixture[str],
) -> None:
    record_rtdl(_rtdl(make_decision, ready_run, truth))
    code = main(["eval", "decisions", "--run-id", ready_run, "--profile", str(eval_profile_path)])
    out, err = capsys.readouterr()
    assert code == 0
    for subtype in {r.subtype for r in truth.values() if r.is_fraud_or_abuse}:
        assert f" {subtype} " in out
    assert f"Evaluation of run {ready_run}" in out
    assert "2 rtdl records were unreadable" in err


def test_cli_json_is_the_scorecard(
    eval_profile_path: Path, ready_run: str, make_decision: MakeDecision,
    truth: dict[str, TruthRow], record_rtdl: Recording, capsys: pytest.CaptureFixture[str],
) -> None:
    record_rtdl(_rtdl(make_decision, ready_run, truth))
    assert main(["--profile", str(eval_profile_path), "eval", "decisions", "--run-id",
                 ready_run, "--json"]) == 0
    body = orjson.loads(capsys.readouterr().out)
    assert body["run_id"] == ready_run and body["truth_flows"] == len(truth)
    assert body["recall"] == 1.0 and body["unmatched"] == 0


def test_cli_says_so_when_the_run_has_no_decisions(
    eval_profile_path: Path, ready_run: str, record_rtdl: Recording,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_rtdl([])
    assert main(["eval", "decisions", "--run-id", ready_run,
                 "--profile", str(eval_profile_path)]) == 1
    assert f"no decisions of run {ready_run}" in capsys.readouterr().err


@pytest.mark.parametrize(("run_id", "code"), [("nope", "RUN_ID_INVALID"),
                                              ("0" * 32, "RUN_UNKNOWN")])
def test_cli_refuses_bad_runs_in_one_line(eval_profile_path: Path, run_id: str, code: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "decisions", "--run-id", run_id,
                 "--profile", str(eval_profile_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fp: error [{code}]:") and err.count("\n") == 1


def test_cli_refuses_truth_whose_gate_no_longer_passes(
    eval_profile: Profile, eval_profile_path: Path, tiny_world: Path, tmp_path: Path,
    record_rtdl: Recording, capsys: pytest.CaptureFixture[str],
) -> None:
    world = tmp_path / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
    shutil.copytree(tiny_world, world)
    run_id, status = sr_run(eval_profile, world)
    assert status == "READY"
    part = sorted((world / "outputs" / "flow_truth").rglob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:-1] + b"\x00")  # tampered after SR verified it
    record_rtdl([])
    assert main(["eval", "decisions", "--run-id", run_id,
                 "--profile", str(eval_profile_path)]) == 2
    assert capsys.readouterr().err.startswith("fp: error [GATE_DIGEST_MISMATCH]:")

"""A bad run request is one clear line (exit 2), and ``fp run start`` starts nothing for it."""

from __future__ import annotations

import pytest

import app.runtime.run_driver as run_driver
from app.cli.main import main
from app.rails.errors import ContractError
from app.sr.run_request import parse_run_request

GOOD = "/w/seed=1/parameter_hash=" + "a" * 64 + "/manifest_fingerprint=" + "b" * 64 + \
    "/scenario_id=baseline"


def test_every_bad_field_is_named() -> None:
    with pytest.raises(ContractError) as info:
        parse_run_request(world_locator="", scenario_id="", run_label="bad label")
    text = str(info.value)
    assert info.value.reason_code == "CONTRACT_VIOLATION"
    assert "world_locator:" in text and "scenario_id:" in text and "run_label:" in text


def test_a_good_request_parses() -> None:
    request = parse_run_request(world_locator=GOOD, scenario_id="baseline", run_label="r1")
    assert request.run_label == "r1"


@pytest.mark.parametrize(("argv", "reason"), [
    (["--world", ""], "CONTRACT_VIOLATION"),
    (["--world", GOOD, "--label", "bad label"], "CONTRACT_VIOLATION"),
    (["--world", GOOD, "--scenario", "bad id"], "CONTRACT_VIOLATION"),
    (["--world", "/not/a/locator"], "LOCATOR_INVALID"),
])
def test_fp_run_start_refuses_before_starting_anything(
        argv: list[str], reason: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def must_not_start(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a broker or worker was started for a bad request")

    monkeypatch.setattr(run_driver, "embedded_broker", must_not_start)
    monkeypatch.setattr(run_driver, "WorkerProcess", must_not_start)
    assert main(["run", "start", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fp: error [{reason}]") and "Traceback" not in err


def test_fp_sr_run_names_the_bad_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sr", "run", "--world", "", "--scenario", "baseline"]) == 2
    assert "world_locator:" in capsys.readouterr().err

"""``fp world generate`` and ``fp world show`` on a tiny world; bad input fails cleanly."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from app.cli import world_cmd
from app.rails.canonical_json import canonical_loads
from app.rails.errors import FraudPlatformError


def _run(argv: list[str]) -> int:
    """Parse and run like ``app.cli.main.main`` does, with only the ``world`` command wired."""
    parser = argparse.ArgumentParser(prog="fp")
    parser.add_argument("--profile", default="local")
    sub = parser.add_subparsers(dest="command", required=True)
    world_cmd.register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except FraudPlatformError as exc:
        print(f"fp: error [{exc.reason_code}]: {exc}")
        return 2


def _generate(root: Path, *extra: str) -> list[str]:
    return [
        "world",
        "generate",
        "--seed",
        "5",
        "--scale",
        "tiny",
        "--days",
        "2",
        "--oracle-root",
        str(root),
        *extra,
    ]


def test_generate_prints_identity_and_counts_then_show_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(_generate(tmp_path, "--json", "--start-date", "2025-06-02")) == 0
    captured = capsys.readouterr()
    result = canonical_loads(captured.out)
    assert "world: day 2/2" in captured.err
    locator = Path(result["locator"])
    assert (locator / "_SEALED.json").is_file()
    assert result["row_counts"]["auth_request"] > 0
    assert len(result["manifest_fingerprint"]) == len(result["parameter_hash"]) == 64

    assert _run(["world", "show", str(locator)]) == 0
    shown = capsys.readouterr().out
    assert result["manifest_fingerprint"] in shown and "auth_request" in shown
    assert '"start_date":"2025-06-02"' in shown


def test_generating_twice_at_the_same_target_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(_generate(tmp_path)) == 0
    capsys.readouterr()
    assert _run(_generate(tmp_path)) == 2
    assert "WORLD_PACK_EXISTS" in capsys.readouterr().out


@pytest.mark.parametrize(
    "bad",
    [
        ["--scale", "huge"],
        ["--days", "0"],
        ["--days", "-1"],
        ["--start-date", "2025-6-2"],
        ["--seed", "-4"],
    ],
)
def test_bad_input_is_an_argparse_error_and_writes_nothing(
    tmp_path: Path, bad: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        _run(_generate(tmp_path, *bad))
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_out_of_range_fraud_rate_is_a_params_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(_generate(tmp_path, "--fraud-rate", "0.5")) == 2
    assert "WORLD_PARAMS_INVALID" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_show_refuses_a_folder_without_a_seal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["world", "show", str(tmp_path)]) == 2
    assert "PACK_NOT_SEALED" in capsys.readouterr().out

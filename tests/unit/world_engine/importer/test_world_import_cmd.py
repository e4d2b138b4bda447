"""``fp world import``: prints the locator and counts; refusals and re-imports exit 2."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from app.cli import world_cmd
from app.rails.canonical_json import canonical_loads
from app.rails.errors import FraudPlatformError
from tests.unit.world_engine.importer.factories import base_mapping, make_rows, write_csv


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


def _files(tmp_path: Path, rows: list[dict[str, str]]) -> tuple[Path, Path]:
    mapping = tmp_path / "map.yaml"
    mapping.write_text(yaml.safe_dump(base_mapping()), encoding="utf-8")
    return write_csv(tmp_path / "in.csv", rows), mapping


def _argv(data: Path, mapping: Path, root: Path, *extra: str) -> list[str]:
    return ["world", "import", "--input", str(data), "--mapping", str(mapping), "--seed", "4",
            "--oracle-root", str(root), *extra]


def test_import_prints_locator_and_counts_then_refuses_a_second_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, mapping = _files(tmp_path, make_rows())
    assert _run(_argv(data, mapping, tmp_path / "o")) == 0
    out = capsys.readouterr().out
    assert "rows: 12 read, 12 imported, 3 fraud, 0 bad" in out
    assert "card_transaction_truth" in out and "imported in" in out
    locator = out.splitlines()[0].removeprefix("locator: ")
    assert (Path(locator) / "_SEALED.json").is_file()

    assert _run(_argv(data, mapping, tmp_path / "o")) == 2
    assert "WORLD_PACK_EXISTS" in capsys.readouterr().out

    assert _run(["world", "show", locator]) == 0
    assert '"kind":"fp.world_import.v1"' in capsys.readouterr().out


def test_import_json_output_carries_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, mapping = _files(tmp_path, make_rows())
    assert _run(_argv(data, mapping, tmp_path / "o", "--json", "--scenario", "s1")) == 0
    result = canonical_loads(capsys.readouterr().out)
    assert result["scenario_id"] == "s1"
    assert result["import_report"]["fraud_rows"] == 3
    assert result["row_counts"]["card_transaction"] == 12


def test_bad_rows_under_refuse_exit_2_with_counts_and_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = make_rows()
    rows[2]["amt"] = "-1"
    data, mapping = _files(tmp_path, rows)
    assert _run(_argv(data, mapping, tmp_path / "o")) == 2
    out = capsys.readouterr().out
    assert "IMPORT_BAD_ROWS" in out and "AMOUNT_NEGATIVE: 1" in out and "row 2" in out
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.json"))


def test_a_bad_mapping_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, mapping = _files(tmp_path, make_rows())
    mapping.write_text(yaml.safe_dump({**base_mapping(), "bad_rows": "ignore"}), encoding="utf-8")
    assert _run(_argv(data, mapping, tmp_path / "o")) == 2
    assert "IMPORT_MAPPING_INVALID" in capsys.readouterr().out

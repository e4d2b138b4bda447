"""Schema export: deterministic files, valid JSON Schema agreeing with the models, drift found."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from app.cli import schemas_cmd
from app.rails.canonical_json import canonical_loads, pretty_dumps
from app.rails.envelope import CanonicalEnvelope, dump_envelope
from app.rails.receipts import IngestionReceipt
from app.rails.schema_export import (
    EXPORTED,
    SCHEMA_DIR,
    diff_schemas,
    render_schemas,
    write_schemas,
)

ENVELOPE_PATH = f"{SCHEMA_DIR}/canonical_envelope.v1.schema.json"
RECEIPT_PATH = f"{SCHEMA_DIR}/ingestion_receipt.v1.schema.json"


def _validator(rel: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(canonical_loads(render_schemas()[rel]))


def test_render_is_deterministic() -> None:
    assert render_schemas() == render_schemas()


def test_every_file_is_versioned_and_pretty_with_sorted_keys() -> None:
    for rel, data in render_schemas().items():
        assert re.fullmatch(rf"{SCHEMA_DIR}/[a-z_]+\.v[1-9][0-9]*\.schema\.json", rel)
        assert data == pretty_dumps(canonical_loads(data))


def test_exported_names_are_unique() -> None:
    paths = [item.relative_path for item in EXPORTED]
    assert len(paths) == len(set(paths))


@pytest.mark.parametrize("rel", sorted(render_schemas()))
def test_every_schema_is_valid_draft_2020_12(rel: str) -> None:
    schema = canonical_loads(render_schemas()[rel])
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False  # every exported contract is closed


def test_a_canonical_envelope_validates_against_its_schema(
    make_envelope: Callable[..., CanonicalEnvelope],
) -> None:
    _validator(ENVELOPE_PATH).validate(canonical_loads(dump_envelope(make_envelope())))


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},
        {"ts_utc": "2024-03-01T12:00:00Z"},
        {"seed": -1},
        {"run_id": "f" * 64},
        {"payload": []},
    ],
)
def test_the_envelope_schema_refuses_what_the_model_refuses(
    make_envelope: Callable[..., CanonicalEnvelope], change: dict[str, Any]
) -> None:
    doc = canonical_loads(dump_envelope(make_envelope())) | change
    assert not _validator(ENVELOPE_PATH).is_valid(doc)


@pytest.mark.parametrize("decision", ["ADMIT", "DUPLICATE", "QUARANTINE"])
def test_valid_receipts_validate_against_the_receipt_schema(
    make_receipt: Callable[..., IngestionReceipt], decision: str
) -> None:
    _validator(RECEIPT_PATH).validate(make_receipt(decision).model_dump(mode="json"))


@pytest.mark.parametrize(
    ("decision", "change"),
    [
        ("ADMIT", {"eb_ref": None}),
        ("ADMIT", {"reason_codes": ["RUN_NOT_READY"]}),
        ("DUPLICATE", {"reason_codes": ["RUN_NOT_READY"]}),
        ("QUARANTINE", {"quarantine_ref": None}),
        ("QUARANTINE", {"eb_ref": {"topic": "t", "partition": 0, "offset": 0}}),
        ("QUARANTINE", {"reason_codes": []}),
    ],
)
def test_the_receipt_schema_mirrors_the_per_decision_rules(
    make_receipt: Callable[..., IngestionReceipt],
    decision: str,
    change: dict[str, Any],
) -> None:
    doc = make_receipt(decision).model_dump(mode="json") | change
    assert not _validator(RECEIPT_PATH).is_valid(doc)
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        IngestionReceipt.model_validate(doc)


def test_written_schemas_have_no_drift(tmp_path: Path) -> None:
    assert sorted(write_schemas(tmp_path)) == sorted(render_schemas())
    assert diff_schemas(tmp_path) == []
    assert write_schemas(tmp_path) == []  # a second run changes nothing


def test_diff_names_drifted_missing_and_extra_files(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    (tmp_path / ENVELOPE_PATH).write_bytes(b"{}\n")
    (tmp_path / RECEIPT_PATH).unlink()
    extra = f"{SCHEMA_DIR}/old_thing.v1.schema.json"
    (tmp_path / extra).write_bytes(b"{}\n")
    assert diff_schemas(tmp_path) == sorted([ENVELOPE_PATH, RECEIPT_PATH, extra])
    assert sorted(write_schemas(tmp_path)) == sorted([ENVELOPE_PATH, RECEIPT_PATH, extra])
    assert not (tmp_path / extra).exists()
    assert diff_schemas(tmp_path) == []


def test_diff_of_an_empty_root_lists_every_schema_as_missing(tmp_path: Path) -> None:
    assert diff_schemas(tmp_path) == sorted(render_schemas())


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fp")
    schemas_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def test_cli_generate_then_check_passes(tmp_path: Path) -> None:
    assert _run_cli(["schemas", "generate", "--root", str(tmp_path)]) == 0
    assert _run_cli(["schemas", "check", "--root", str(tmp_path)]) == 0


def test_cli_check_fails_on_drift_and_says_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run_cli(["schemas", "generate", "--root", str(tmp_path)])
    (tmp_path / ENVELOPE_PATH).write_bytes(b"{}\n")
    assert _run_cli(["schemas", "check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"drifted: {ENVELOPE_PATH}" in err
    assert "fp schemas generate" in err


def test_cli_schemas_needs_an_action() -> None:
    with pytest.raises(SystemExit):
        _run_cli(["schemas"])

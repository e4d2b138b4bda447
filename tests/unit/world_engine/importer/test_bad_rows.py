"""Bad rows: each reason is detected; ``refuse`` writes nothing, ``quarantine`` keeps them aside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.rails.canonical_json import canonical_loads
from tests.unit.world_engine.importer.factories import make_rows, pack_table, write_csv
from world_engine.importer import (
    BadRowReason,
    ImportBadRowsError,
    ImportInputError,
    ImportMapping,
    import_world,
)

MappingFactory = Callable[..., ImportMapping]


def _refused(tmp_path: Path, mapping: ImportMapping, rows: list[dict[str, Any]]) -> Any:
    path = write_csv(tmp_path / "in.csv", rows)
    with pytest.raises(ImportBadRowsError) as caught:
        import_world(path, mapping, 1, tmp_path / "oracle")
    assert not (tmp_path / "oracle").exists() or not any((tmp_path / "oracle").rglob("*"))
    return caught.value


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("t", "soon", BadRowReason.TIME_UNPARSEABLE),
        ("t", "", BadRowReason.TIME_UNPARSEABLE),
        ("t", "-5", BadRowReason.TIME_OUT_OF_RANGE),
        ("t", "inf", BadRowReason.TIME_UNPARSEABLE),
        ("amt", "ten", BadRowReason.AMOUNT_NOT_NUMERIC),
        ("amt", "nan", BadRowReason.AMOUNT_NOT_NUMERIC),
        ("amt", "", BadRowReason.AMOUNT_NOT_NUMERIC),
        ("amt", "-1.00", BadRowReason.AMOUNT_NEGATIVE),
        ("amt", "1.005", BadRowReason.AMOUNT_PRECISION),
        ("amt", "1e20", BadRowReason.AMOUNT_OUT_OF_RANGE),
        ("card", "  ", BadRowReason.ID_MISSING),
        ("is_bad", "2", BadRowReason.LABEL_UNKNOWN),
        ("is_bad", "", BadRowReason.LABEL_UNKNOWN),
        ("score", "high", BadRowReason.FEATURE_INVALID),
        ("score", "", BadRowReason.FEATURE_INVALID),
        ("n_items", "2.5", BadRowReason.FEATURE_INVALID),
    ],
)
def test_each_bad_value_is_refused_with_its_reason_and_an_example(
    tmp_path: Path, make_mapping: MappingFactory, column: str, value: str, reason: BadRowReason
) -> None:
    rows = make_rows()
    rows[5][column] = value
    error = _refused(tmp_path, make_mapping(), rows)
    assert error.reason_code == "IMPORT_BAD_ROWS"
    assert error.report.counts == {reason: 1}
    [example] = error.report.examples[reason]
    assert (example.source_row, example.column, example.raw_value) == (5, column, value)
    assert f"{reason.value}: 1" in str(error) and "nothing was written" in str(error)


def test_zero_amounts_and_trimmed_values_are_good(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = make_rows()
    rows[0]["amt"], rows[1]["card"], rows[2]["is_bad"] = "0", " C9 ", " 1 "
    locator = import_world(write_csv(tmp_path / "in.csv", rows), make_mapping(), 1, tmp_path / "o")
    traffic = pack_table(locator.path, "card_transaction").sort_by("txn_id")
    assert traffic.column("amount_minor").to_pylist()[0] == 0
    assert traffic.column("card_id").to_pylist()[1] == "C9"
    assert locator.row_counts["card_transaction_label"] == 4


def test_a_row_counts_once_under_its_first_failing_check(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = make_rows()
    rows[2].update(amt="-3", card="", is_bad="maybe")  # amount comes before ids and labels
    error = _refused(tmp_path, make_mapping(), rows)
    assert error.report.counts == {BadRowReason.AMOUNT_NEGATIVE: 1}
    assert error.report.total == 1


def test_refusal_counts_every_bad_row_but_keeps_only_the_first_examples(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = make_rows(40)
    for i in (4, 9, 17, 22, 30):
        rows[i]["amt"] = "n/a"
    rows[33]["t"] = "later"
    error = _refused(tmp_path, make_mapping(), rows)
    assert error.rows_read == 40
    assert error.report.summary() == {"AMOUNT_NOT_NUMERIC": 5, "TIME_UNPARSEABLE": 1}
    examples = error.report.examples[BadRowReason.AMOUNT_NOT_NUMERIC]
    assert [e.source_row for e in examples] == [4, 9, 17]
    assert "row 4 column 'amt' value 'n/a'" in str(error)


def test_optional_ids_and_nullable_features_may_be_missing(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = make_rows()
    rows[1]["shop"], rows[2]["score"] = "", ""
    mapping = make_mapping(
        entities={"card_id": {"column": "card"},
                  "merchant_id": {"column": "shop", "required": False}},
        features=[{"column": "score", "name": "score", "type": "float64", "nullable": True}],
    )
    locator = import_world(write_csv(tmp_path / "in.csv", rows), mapping, 1, tmp_path / "o")
    traffic = pack_table(locator.path, "card_transaction").sort_by("txn_id")
    assert traffic.column("merchant_id").to_pylist()[1] is None
    assert traffic.column("score").to_pylist()[2] is None


def test_quarantine_imports_the_good_rows_and_keeps_the_bad_ones_aside(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = make_rows()
    rows[3]["amt"] = "-2.00"  # a fraud row: no truth, no label for it
    rows[6]["t"] = "yesterday"
    rows[7]["is_bad"] = "?"
    path = write_csv(tmp_path / "in.csv", rows)
    locator = import_world(path, make_mapping(bad_rows="quarantine"), 1, tmp_path / "o")
    assert locator.row_counts == {
        "card_transaction": 9, "card_transaction_label": 1, "card_transaction_truth": 9,
        "card_transaction_quarantine": 3,
    }
    traffic_ids = set(pack_table(locator.path, "card_transaction").column("txn_id").to_pylist())
    assert not {"txn_000000000003", "txn_000000000006", "txn_000000000007"} & traffic_ids
    quarantine = pack_table(locator.path, "card_transaction_quarantine").to_pylist()
    assert quarantine == [
        {"source_row": 3, "txn_id": "txn_000000000003", "reason_code": "AMOUNT_NEGATIVE",
         "column": "amt", "raw_value": "-2.00"},
        {"source_row": 6, "txn_id": "txn_000000000006", "reason_code": "TIME_UNPARSEABLE",
         "column": "t", "raw_value": "yesterday"},
        {"source_row": 7, "txn_id": "txn_000000000007", "reason_code": "LABEL_UNKNOWN",
         "column": "is_bad", "raw_value": "?"},
    ]
    manifest = canonical_loads((Path(locator.path) / "manifest.json").read_bytes())
    report = manifest["parameters"]["import_report"]
    assert report["rows_read"] == 12 and report["rows_imported"] == 9
    assert report["fraud_rows"] == 1 and report["bad_rows"] == 3
    assert report["bad_rows_by_reason"] == {
        "AMOUNT_NEGATIVE": 1, "LABEL_UNKNOWN": 1, "TIME_UNPARSEABLE": 1
    }
    roles = {o["output_id"]: o["role"] for o in manifest["outputs"]}
    assert roles["card_transaction_quarantine"] == "reference"


def test_quarantine_with_no_good_row_left_is_an_input_error(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = [{**r, "amt": "free"} for r in make_rows(3)]
    with pytest.raises(ImportInputError, match="none of its rows is importable"):
        import_world(write_csv(tmp_path / "in.csv", rows), make_mapping(bad_rows="quarantine"),
                     1, tmp_path / "o")


def test_absolute_mode_refuses_naive_and_out_of_range_times(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = make_rows(4)
    stamps = ["2024-03-01T10:00:00Z", "2024-03-01T10:00:00", "1969-12-31T23:59:59Z", "03/01/2024"]
    for row, stamp in zip(rows, stamps, strict=True):
        row["t"] = stamp
    error = _refused(tmp_path, make_mapping(time={"column": "t", "mode": "absolute"}), rows)
    assert error.report.summary() == {
        "TIME_NAIVE": 1, "TIME_OUT_OF_RANGE": 1, "TIME_UNPARSEABLE": 1
    }


def test_currency_column_values_must_be_iso_codes(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = [{**r, "cur": "EUR"} for r in make_rows(4)]
    rows[2]["cur"] = "euro"
    mapping = make_mapping(amount={"column": "amt", "unit": "minor", "currency": {"column": "cur"}})
    for row in rows:
        row["amt"] = row["amt"].replace(".", "")
    error = _refused(tmp_path, mapping, rows)
    assert error.report.summary() == {"CURRENCY_INVALID": 1}


def test_minor_units_must_be_whole_and_bool_features_must_be_booleans(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = [{**r, "flag": "yes" if i % 2 else "False"} for i, r in enumerate(make_rows(6))]
    for row in rows:
        row["amt"] = row["amt"].replace(".", "")
    rows[1]["amt"] = "1201.5"
    rows[4]["flag"] = "perhaps"
    mapping = make_mapping(
        amount={"column": "amt", "unit": "minor", "currency": {"value": "JPY"}},
        features=[{"column": "flag", "name": "flag", "type": "bool"},
                  {"column": "card", "name": "card_text", "type": "string"}],
        bad_rows="quarantine",
    )
    locator = import_world(write_csv(tmp_path / "in.csv", rows), mapping, 1, tmp_path / "o")
    quarantine = pack_table(locator.path, "card_transaction_quarantine")
    assert quarantine.column("reason_code").to_pylist() == ["AMOUNT_PRECISION", "FEATURE_INVALID"]
    traffic = pack_table(locator.path, "card_transaction").sort_by("txn_id")
    assert traffic.column("flag").to_pylist() == [False, False, True, True]  # rows 0, 2, 3, 5
    assert traffic.column("card_text").to_pylist() == ["C0", "C2", "C3", "C0"]
    assert traffic.column("amount_minor").to_pylist()[0] == 1000

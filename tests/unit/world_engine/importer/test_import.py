"""``import_world`` on small synthetic inputs: outputs, identity, determinism, SR acceptance."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.rails.canonical_json import canonical_loads
from app.sr.pack_verifier import verify_pack
from app.sr.run_request import RunRequest
from tests.unit.world_engine.conftest import file_digests
from tests.unit.world_engine.importer.factories import (
    make_rows,
    pack_table,
    write_csv,
    write_parquet,
)
from world_engine.errors import WorldPackExistsError, WorldParamsError
from world_engine.importer import IMPORT_KIND, ImportInputError, ImportMapping, import_world

START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
MappingFactory = Callable[..., ImportMapping]


def _manifest(locator: str) -> dict:
    return canonical_loads((Path(locator) / "manifest.json").read_bytes())


def test_traffic_rows_carry_time_money_ids_and_features_but_no_truth(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    locator = import_world(input_csv, make_mapping(), 1, tmp_path / "oracle")
    traffic = pack_table(locator.path, "card_transaction").sort_by("txn_id")
    assert traffic.column_names == [
        "txn_id", "ts_utc", "card_id", "account_id", "customer_id", "merchant_id", "device_id",
        "ip_id", "amount_minor", "currency", "score", "n_items",
    ]
    first = traffic.slice(0, 1).to_pylist()[0]
    assert first["txn_id"] == "txn_000000000000"
    assert first["ts_utc"] == START + dt.timedelta(seconds=0.5)
    assert (first["card_id"], first["merchant_id"], first["account_id"]) == ("C0", "M0", None)
    assert (first["amount_minor"], first["currency"]) == (1000, "EUR")
    assert traffic.column("amount_minor").to_pylist()[5] == 1505
    assert traffic.column("n_items").type == pa.int64()
    assert traffic.column("score").to_pylist()[:3] == [0.0, 0.25, 0.5]
    assert traffic.schema.field("ts_utc").type == pa.timestamp("us", tz="UTC")


def test_truth_is_a_separate_unstreamed_output_and_never_in_traffic(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    locator = import_world(input_csv, make_mapping(), 1, tmp_path / "oracle")
    traffic = pack_table(locator.path, "card_transaction")
    truth = pack_table(locator.path, "card_transaction_truth").sort_by("txn_id")
    assert not {"is_fraud", "label", "subtype", "source_label", "is_bad"} & set(
        traffic.column_names
    )
    assert truth.column("is_fraud").to_pylist() == [i % 4 == 3 for i in range(12)]
    assert truth.column("label").to_pylist()[3] == "fraud"
    assert truth.column("source_label").to_pylist()[:4] == ["0", "0", "0", "1"]
    roles = {o["output_id"]: o["role"] for o in _manifest(locator.path)["outputs"]}
    assert roles == {"card_transaction": "business_traffic",
                     "card_transaction_label": "label_feed",
                     "card_transaction_truth": "truth"}


def test_label_feed_labels_fraud_rows_within_the_delay_window(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    locator = import_world(input_csv, make_mapping(), 1, tmp_path / "oracle")
    labels = pack_table(locator.path, "card_transaction_label").sort_by("txn_id")
    assert labels.column("txn_id").to_pylist() == [
        "txn_000000000003", "txn_000000000007", "txn_000000000011"
    ]
    assert labels.column("label_event_id").to_pylist()[0] == "lbl_000000000003"
    assert set(labels.column("label_type").to_pylist()) == {"chargeback"}
    assert labels.column("card_id").to_pylist() == ["C3", "C2", "C1"]
    for row in labels.to_pylist():
        delay = row["observed_ts_utc"] - row["effective_ts_utc"]
        assert dt.timedelta(days=10) <= delay <= dt.timedelta(days=20)


def test_label_coverage_below_one_drops_some_labels_the_same_way_per_seed(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = write_csv(tmp_path / "many.csv", make_rows(400))  # 100 fraud rows
    mapping = make_mapping(label_feed={"min_delay_days": 1, "max_delay_days": 2, "coverage": 0.5})
    first = import_world(rows, mapping, 1, tmp_path / "a")
    again = import_world(rows, mapping, 1, tmp_path / "b")
    other = import_world(rows, mapping, 2, tmp_path / "c")
    labels = [pack_table(p.path, "card_transaction_label") for p in (first, again, other)]
    assert 20 < labels[0].num_rows < 80
    assert labels[0].equals(labels[1])
    assert not labels[0].equals(labels[2])


def test_the_manifest_records_identity_parameters_and_counts(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    mapping = make_mapping()
    locator = import_world(input_csv, mapping, 1, tmp_path / "oracle")
    manifest = _manifest(locator.path)
    params = manifest["parameters"]
    assert params["kind"] == IMPORT_KIND
    assert params["input"] == {
        "sha256": hashlib.sha256(input_csv.read_bytes()).hexdigest(),
        "size_bytes": input_csv.stat().st_size,
        "format": "csv",
    }
    assert params["mapping"] == mapping.canonical()
    assert params["import_report"] == {
        "rows_read": 12, "rows_imported": 12, "fraud_rows": 3, "label_events": 3,
        "bad_rows": 0, "bad_rows_by_reason": {},
    }
    assert manifest["engine"] == {"name": "fp-importer", "version": "1.0.0"}
    assert locator.row_counts == {"card_transaction": 12, "card_transaction_label": 3,
                                  "card_transaction_truth": 12}


def test_same_file_mapping_and_seed_give_a_byte_identical_pack_then_refuse(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    renamed = tmp_path / "elsewhere" / "renamed.csv"
    renamed.parent.mkdir()
    renamed.write_bytes(input_csv.read_bytes())
    a = import_world(input_csv, make_mapping(), 9, tmp_path / "a")
    b = import_world(renamed, make_mapping(), 9, tmp_path / "b")
    assert Path(a.path).relative_to(tmp_path / "a") == Path(b.path).relative_to(tmp_path / "b")
    assert file_digests(Path(a.path)) == file_digests(Path(b.path))
    with pytest.raises(WorldPackExistsError):
        import_world(input_csv, make_mapping(), 9, tmp_path / "a")


def test_parameter_hash_covers_the_input_bytes_and_the_mapping_not_the_seed(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    base = import_world(input_csv, make_mapping(), 1, tmp_path / "o")
    other_seed = import_world(input_csv, make_mapping(), 2, tmp_path / "o")
    other_policy = import_world(input_csv, make_mapping(bad_rows="quarantine"), 1, tmp_path / "o")
    edited = write_csv(tmp_path / "edited.csv", [*make_rows()[:-1], {**make_rows()[-1],
                                                                     "amt": "99.00"}])
    other_bytes = import_world(edited, make_mapping(), 1, tmp_path / "o")
    assert other_seed.parameter_hash == base.parameter_hash != other_policy.parameter_hash
    assert other_bytes.parameter_hash not in (base.parameter_hash, other_policy.parameter_hash)
    assert other_seed.path != base.path


def test_parquet_input_with_native_types_gives_the_same_rows_as_csv(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = make_rows()
    table = pa.table({
        "t": pa.array([float(r["t"]) for r in rows]),
        "amt": pa.array([float(r["amt"]) for r in rows]),
        "card": pa.array([r["card"] for r in rows]),
        "shop": pa.array([r["shop"] for r in rows]),
        "score": pa.array([float(r["score"]) for r in rows]),
        "n_items": pa.array([int(r["n_items"]) for r in rows], pa.int32()),
        "is_bad": pa.array([int(r["is_bad"]) for r in rows], pa.int8()),
    })
    parquet = write_parquet(tmp_path / "input.parquet", table)
    from_csv = import_world(input_csv, make_mapping(), 1, tmp_path / "csv")
    from_parquet = import_world(parquet, make_mapping(), 1, tmp_path / "pq")
    for output_id in ("card_transaction", "card_transaction_truth", "card_transaction_label"):
        assert pack_table(from_parquet.path, output_id).equals(
            pack_table(from_csv.path, output_id)
        ), output_id


def test_absolute_times_accept_offsets_and_assume_utc_reads_naive_ones(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = make_rows(3)
    stamps = ["2024-03-01T10:00:00Z", "2024-03-01T12:00:00+02:00", "2024-03-01 10:00:00.25"]
    for row, stamp in zip(rows, stamps, strict=True):
        row["t"] = stamp
    path = write_csv(tmp_path / "abs.csv", rows)
    mapping = make_mapping(time={"column": "t", "mode": "absolute", "assume_utc": True})
    locator = import_world(path, mapping, 1, tmp_path / "o")
    times = pack_table(locator.path, "card_transaction").sort_by("txn_id").column("ts_utc")
    ten = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    assert times.to_pylist() == [ten, ten, ten + dt.timedelta(seconds=0.25)]


def test_currency_and_ids_can_come_from_columns(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = [{**r, "cur": "GBP" if i % 2 else "EUR"} for i, r in enumerate(make_rows(4))]
    mapping = make_mapping(
        amount={"column": "amt", "unit": "major", "currency": {"column": "cur"}},
        entities={"card_id": {"column": "card"}, "ip_id": {"column": "shop", "required": False}},
    )
    locator = import_world(write_csv(tmp_path / "c.csv", rows), mapping, 1, tmp_path / "o")
    traffic = pack_table(locator.path, "card_transaction").sort_by("txn_id")
    assert traffic.column("currency").to_pylist() == ["EUR", "GBP", "EUR", "GBP"]
    assert traffic.column("ip_id").to_pylist() == ["M0", "M1", "M2", "M0"]
    assert traffic.column("merchant_id").null_count == 4


def test_sr_pack_verification_accepts_an_imported_world(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    locator = import_world(input_csv, make_mapping(bad_rows="quarantine"), 3, tmp_path / "o")
    parsed = parse_locator(locator.path)
    request = RunRequest(world_locator=locator.path, scenario_id="baseline")
    verdict = asyncio.run(verify_pack(open_pack(parsed), parsed, request))
    assert verdict.passed, (verdict.reason_code, verdict.detail)
    streamed = {o.output_id for o in verdict.outputs if o.streamed}
    assert streamed == {"card_transaction", "card_transaction_label"}


def test_bad_seed_scenario_empty_input_and_missing_columns_fail_before_writing(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    root = tmp_path / "o"
    with pytest.raises(WorldParamsError):
        import_world(input_csv, make_mapping(), -1, root)
    with pytest.raises(WorldParamsError):
        import_world(input_csv, make_mapping(), 1, root, scenario_id="../x")
    header_only = tmp_path / "empty.csv"
    header_only.write_text("t,amt,card,shop,score,n_items,is_bad\n", encoding="utf-8")
    with pytest.raises(ImportInputError, match="no data rows"):
        import_world(header_only, make_mapping(), 1, root)
    with pytest.raises(ImportInputError, match=r"mapped columns \['shop'\] are not in the file"):
        rows = [{k: v for k, v in r.items() if k != "shop"} for r in make_rows()]
        import_world(write_csv(tmp_path / "noshop.csv", rows), make_mapping(), 1, root)
    with pytest.raises(ImportInputError, match="cannot tell the format"):
        import_world(input_csv.rename(tmp_path / "input.txt"), make_mapping(), 1, root)
    with pytest.raises(ImportInputError, match="cannot read the file"):
        import_world(tmp_path / "nope.csv", make_mapping(), 1, root)
    assert not root.exists() or not any(root.rglob("*.parquet"))


def test_a_csv_line_with_the_wrong_number_of_fields_is_a_file_error(
    input_csv: Path, tmp_path: Path, make_mapping: MappingFactory
) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text(input_csv.read_text(encoding="utf-8") + "1,2,3\n", encoding="utf-8")
    with pytest.raises(ImportInputError, match="cannot read it as csv"):
        import_world(broken, make_mapping(), 1, tmp_path / "o")


def test_a_subtype_column_is_carried_into_truth_only(
    tmp_path: Path, make_mapping: MappingFactory
) -> None:
    rows = [{**r, "kind": "ato" if r["is_bad"] == "1" else ""} for r in make_rows(4)]
    mapping = make_mapping(truth={"column": "is_bad", "fraud_values": ["1"],
                                  "legit_values": ["0"], "subtype_column": "kind"})
    locator = import_world(write_csv(tmp_path / "s.csv", rows), mapping, 1, tmp_path / "o")
    truth = pack_table(locator.path, "card_transaction_truth").sort_by("txn_id")
    assert truth.column("subtype").to_pylist() == [None, None, None, "ato"]
    assert "kind" not in pack_table(locator.path, "card_transaction").column_names

"""Payload contracts generated from a world's declared schema (issue #15 item 1)."""

from __future__ import annotations

from typing import Any

import pytest

from app.rails.payloads.declared import (
    DeclaredContract,
    DeclaredIssue,
    contract_of,
    declared_contracts,
    validate_declared,
)
from app.rails.reason_codes import ReasonCode
from app.rails.run_facts import FactColumn, FactOutput, RunFactsView

_TS = "timestamp[us, tz=UTC]"


def _col(name: str, type_: str, nullable: bool = False) -> FactColumn:
    return FactColumn(name=name, type=type_, nullable=nullable)


def traffic_output(*extra: FactColumn, schema_version: str = "v1",
                   streamed: bool = True) -> FactOutput:
    """An imported traffic output as SR lists it (the importer's column layout)."""
    columns = (
        _col("txn_id", "string"), _col("ts_utc", _TS), _col("card_id", "string"),
        _col("account_id", "string", True), _col("customer_id", "string", True),
        _col("merchant_id", "string", True), _col("device_id", "string", True),
        _col("ip_id", "string", True), _col("amount_minor", "int64"),
        _col("currency", "string"), _col("v1", "float64"), _col("items", "int64", True),
        _col("is_online", "bool"), _col("note", "string", True), *extra)
    return FactOutput(output_id="card_transaction", role="business_traffic", streamed=streamed,
                      event_type="card_transaction", schema_version=schema_version,
                      time_column="ts_utc", primary_key=("txn_id",), row_count=3,
                      gate_id="gate.traffic", files=(), columns=columns)


def good_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "txn_id": "txn_000000000001", "card_id": "C0001", "account_id": None,
        "customer_id": None, "merchant_id": None, "device_id": None, "ip_id": None,
        "amount_minor": 1299, "currency": "EUR", "v1": -1.25, "items": 2, "is_online": True,
        "note": None}
    return row | overrides


@pytest.fixture
def contract() -> DeclaredContract:
    return contract_of(traffic_output())


def _issue(contract: DeclaredContract, payload: dict[str, Any]) -> DeclaredIssue:
    result = validate_declared(contract, payload)
    assert isinstance(result, DeclaredIssue), result
    return result


def test_a_good_row_is_accepted(contract: DeclaredContract) -> None:
    payload = validate_declared(contract, good_row())
    assert not isinstance(payload, DeclaredIssue)
    assert payload.model_dump() == good_row()  # type: ignore[union-attr]  # checked above


def test_the_time_column_is_not_a_payload_field(contract: DeclaredContract) -> None:
    issue = _issue(contract, good_row(ts_utc="2024-03-01T00:00:00.000000Z"))
    assert issue.reason_code is ReasonCode.PAYLOAD_FIELD_UNKNOWN
    assert issue.field_paths == ("payload.ts_utc",)


def test_an_unknown_field_is_quarantined_by_name(contract: DeclaredContract) -> None:
    issue = _issue(contract, good_row(is_fraud=True))
    assert issue.reason_code is ReasonCode.PAYLOAD_FIELD_UNKNOWN
    assert issue.field_paths == ("payload.is_fraud",)


@pytest.mark.parametrize("field", ["txn_id", "amount_minor", "v1", "note"])
def test_a_missing_field_is_quarantined_even_when_nullable(contract: DeclaredContract,
                                                           field: str) -> None:
    row = good_row()
    del row[field]
    issue = _issue(contract, row)
    assert issue.reason_code is ReasonCode.PAYLOAD_FIELD_MISSING
    assert issue.field_paths == (f"payload.{field}",)


@pytest.mark.parametrize(("field", "value"), [
    ("amount_minor", "1299"),      # a number as text: never coerced
    ("amount_minor", 12.5),        # a float where int64 is declared
    ("amount_minor", 2**63),       # out of int64 range
    ("v1", "0.5"),
    ("v1", float("nan")),
    ("is_online", 1),              # an int is not a bool
    ("card_id", 42),
    ("currency", None),            # null where not nullable
])
def test_a_mistyped_field_is_quarantined(contract: DeclaredContract, field: str,
                                         value: Any) -> None:
    issue = _issue(contract, good_row(**{field: value}))
    assert issue.reason_code is ReasonCode.PAYLOAD_FIELD_TYPE
    assert issue.field_paths == (f"payload.{field}",)


def test_an_unknown_field_is_named_before_a_mistyped_one(contract: DeclaredContract) -> None:
    issue = _issue(contract, good_row(extra=1, v1="x"))
    assert issue.reason_code is ReasonCode.PAYLOAD_FIELD_UNKNOWN
    assert issue.field_paths == ("payload.extra", "payload.v1")


def test_an_integral_float64_value_is_a_number() -> None:
    contract = contract_of(traffic_output())
    assert not isinstance(validate_declared(contract, good_row(v1=3)), DeclaredIssue)


def test_declared_features_exclude_ids_amount_and_text(contract: DeclaredContract) -> None:
    assert contract.features == (("v1", "float"), ("items", "int"), ("is_online", "bool"))
    assert contract.flow_field == "txn_id" and contract.stream == "traffic"


def test_the_contract_is_versioned_by_its_declared_columns() -> None:
    one = contract_of(traffic_output())
    same = contract_of(traffic_output())
    other = contract_of(traffic_output(_col("extra", "float64")))
    assert one.digest == same.digest and one.model is same.model
    assert other.digest != one.digest and other.model is not one.model
    assert contract_of(traffic_output(schema_version="v2")).digest != one.digest


def test_a_label_feed_goes_to_the_labels_stream() -> None:
    output = FactOutput(
        output_id="card_transaction_label", role="label_feed", streamed=True,
        event_type="card_transaction_label", schema_version="v1",
        time_column="observed_ts_utc", primary_key=("label_event_id",), row_count=1,
        gate_id="gate.labels", files=(),
        columns=(_col("label_event_id", "string"), _col("txn_id", "string"),
                 _col("effective_ts_utc", _TS), _col("observed_ts_utc", _TS)))
    contract = contract_of(output)
    assert contract.stream == "labels" and contract.features == ()
    issue = _issue(contract, {"label_event_id": "lbl_000000000001",
                              "txn_id": "txn_000000000001", "effective_ts_utc": "yesterday"})
    assert issue.reason_code is ReasonCode.PAYLOAD_FIELD_TYPE
    assert issue.field_paths == ("payload.effective_ts_utc",)


def _view(*outputs: FactOutput) -> RunFactsView:
    """A view holding only ``outputs`` (all ``declared_contracts`` reads)."""
    return RunFactsView.model_construct(outputs=outputs)


def test_hand_written_and_unstreamed_outputs_get_no_generated_contract() -> None:
    view = _view
    assert set(declared_contracts(view(traffic_output()))) == {("card_transaction", "v1")}
    assert declared_contracts(view(traffic_output()),
                              frozenset({("card_transaction", "v1")})) == {}
    assert declared_contracts(view(traffic_output(streamed=False))) == {}
    bad = traffic_output(_col("blob", "binary"))
    assert declared_contracts(view(bad)) == {}
    with pytest.raises(ValueError, match="binary"):
        contract_of(bad)


def test_a_generated_payload_pickles_into_a_process_that_never_made_its_model() -> None:
    """The hot path's fold snapshots pickle pending payloads; a restarted worker unpickles them
    before it has looked the run up (the full ULB run failed here: PicklingError)."""
    import pickle

    import app.rails.payloads.declared as declared

    contract = contract_of(traffic_output())
    payload = validate_declared(contract, good_row())
    assert not isinstance(payload, DeclaredIssue)
    data = pickle.dumps({"pending": [payload]})
    name = contract.model.__name__
    declared._CACHE.clear()  # a new process: no generated model, no module attribute
    delattr(declared, name)
    restored = pickle.loads(data)["pending"][0]  # the instance makes its model again
    assert restored.model_dump() == payload.model_dump()
    assert type(restored).__name__ == name and type(restored) is not type(payload)
    assert pickle.loads(pickle.dumps(restored)) == restored

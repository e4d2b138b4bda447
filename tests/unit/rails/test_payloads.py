"""Payload contracts mirror their catalogue entries, carry no truth, accept what WSP frames."""

from __future__ import annotations

import importlib
import inspect
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow.parquet as pq
import pytest
import yaml
from pydantic import BaseModel, ValidationError

from app.rails.canonical_json import canonical_loads
from app.rails.payloads import (
    LABEL_EVENT_TYPES,
    PAYLOAD_MODELS,
    TRAFFIC_EVENT_TYPES,
    AuthRequestV1,
    ClearingV1,
    LabelEventV1,
    RefundV1,
)
from app.rails.schema_export import PAYLOAD_SCHEMA_DIR, diff_schemas, render_schemas
from app.rails.timefmt import TS_PATTERN, format_ts
from tests.factories import make_payload

REPO_ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = yaml.safe_load(
    (REPO_ROOT / "world_engine/interface/interface_pack.v1.yaml").read_text(encoding="utf-8")
)
STREAMED_ROLES = {"business_traffic": "traffic", "label_feed": "labels"}
STREAMED = [o for o in CATALOGUE["outputs"] if o["role"] in STREAMED_ROLES]
TRUTH_COLUMNS = {"label", "subtype", "campaign_id", "is_fraud_or_abuse", "issuer_approved"}
_TIMESTAMP = "timestamp[us, tz=UTC]"
_JSON_TYPE = {"string": "string", "int64": "integer", "bool": "boolean", _TIMESTAMP: "string"}
_ENUM_DESCRIPTION = re.compile(r"[a-z_]+( \| [a-z_]+)+")


def _output_ids(outputs: list[dict[str, Any]]) -> list[str]:
    return [o["output_id"] for o in outputs]


def _model_of(output: dict[str, Any]) -> type[BaseModel]:
    return PAYLOAD_MODELS[(output["event_type"], output["schema_version"])]


def _payload_columns(output: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in output["columns"] if c["name"] != output["time_column"]]


def _property(model: type[BaseModel], name: str) -> tuple[dict[str, Any], bool]:
    """(the non-null JSON Schema branch of a field, whether null is also allowed)."""
    prop = model.model_json_schema()["properties"][name]
    branches = prop.get("anyOf", [prop])
    non_null = [b for b in branches if b.get("type") != "null"]
    assert len(non_null) == 1, (name, prop)
    return non_null[0], len(non_null) < len(branches)


# -- the catalogue, column by column ----------------------------------------------------------


def test_there_is_one_model_per_streamed_output_and_none_for_truth_or_reference() -> None:
    streamed = {(o["event_type"], o["schema_version"]) for o in STREAMED}
    assert set(PAYLOAD_MODELS) == streamed
    never_streamed = {o["output_id"] for o in CATALOGUE["outputs"]} - set(_output_ids(STREAMED))
    assert {event_type for event_type, _ in PAYLOAD_MODELS}.isdisjoint(never_streamed)
    assert "flow_truth" in never_streamed


def test_label_and_traffic_event_types_follow_the_catalogue_roles() -> None:
    assert {o["event_type"] for o in STREAMED if o["role"] == "label_feed"} == LABEL_EVENT_TYPES
    assert {o["event_type"] for o in STREAMED if o["role"] == "business_traffic"} == (
        TRAFFIC_EVENT_TYPES
    )


@pytest.mark.parametrize("output", STREAMED, ids=_output_ids(STREAMED))
def test_fields_are_the_catalogue_columns_minus_the_time_column_in_order(
    output: dict[str, Any],
) -> None:
    model = _model_of(output)
    assert list(model.model_fields) == [c["name"] for c in _payload_columns(output)]
    assert output["time_column"] not in model.model_fields


@pytest.mark.parametrize("output", STREAMED, ids=_output_ids(STREAMED))
def test_every_field_is_required_and_only_nullable_columns_accept_null(
    output: dict[str, Any],
) -> None:
    model = _model_of(output)
    for column in _payload_columns(output):
        assert model.model_fields[column["name"]].is_required(), column["name"]
        _, allows_null = _property(model, column["name"])
        assert allows_null is column["nullable"], column["name"]


@pytest.mark.parametrize("output", STREAMED, ids=_output_ids(STREAMED))
def test_field_types_map_the_catalogue_types(output: dict[str, Any]) -> None:
    model = _model_of(output)
    for column in _payload_columns(output):
        branch, _ = _property(model, column["name"])
        assert branch["type"] == _JSON_TYPE[column["type"]], column["name"]
        if column["type"] == _TIMESTAMP:
            assert branch["pattern"] == TS_PATTERN, column["name"]


@pytest.mark.parametrize("output", STREAMED, ids=_output_ids(STREAMED))
def test_enumerated_descriptions_are_closed_literals_with_the_same_values(
    output: dict[str, Any],
) -> None:
    model = _model_of(output)
    for column in _payload_columns(output):
        description = column.get("description", "")
        if _ENUM_DESCRIPTION.fullmatch(description):
            branch, _ = _property(model, column["name"])
            assert branch.get("enum") == description.split(" | "), column["name"]


def test_no_truth_column_appears_in_any_payload() -> None:
    truth = next(o for o in CATALOGUE["outputs"] if o["role"] == "truth")
    truth_only = {c["name"] for c in truth["columns"]} - set(truth["primary_key"])
    truth_only.discard(truth["time_column"])
    assert truth_only == TRUTH_COLUMNS  # the list this test guards is the catalogue's
    for key, model in PAYLOAD_MODELS.items():
        assert TRUTH_COLUMNS.isdisjoint(model.model_fields), key


def test_the_catalogue_example_ids_fit() -> None:
    payload = make_payload("label_event", card_id="card_00000042", flow_id="flow_000000000042",
                           label_event_id="lbl_000000000042_3")
    assert LabelEventV1.model_validate(payload).card_id == "card_00000042"


# -- sample payloads and typical bad values ---------------------------------------------------


@pytest.mark.parametrize("key", sorted(PAYLOAD_MODELS))
def test_a_sample_payload_is_accepted(key: tuple[str, str]) -> None:
    payload = make_payload(key[0], 42)
    assert PAYLOAD_MODELS[key].model_validate(payload).model_dump() == payload


def test_card_present_auth_has_null_device_and_ip() -> None:
    payload = make_payload("auth_request", channel="card_present", entry_mode="chip",
                           device_id=None, ip_id=None)
    assert AuthRequestV1.model_validate(payload).device_id is None


def test_payloads_are_frozen() -> None:
    refund = RefundV1.model_validate(make_payload("refund"))
    with pytest.raises(ValidationError):
        refund.amount_minor = 1  # type: ignore[misc]  # frozen: the point of the test


BAD_VALUES: list[tuple[str, str, Any]] = [
    ("auth_request", "amount_minor", "12.50"),
    ("auth_request", "amount_minor", 12.5),
    ("auth_request", "amount_minor", True),
    ("auth_request", "amount_minor", 2**63),
    ("refund", "amount_minor", -500),
    ("reversal", "amount_minor", -1),
    ("clearing", "currency", "eur"),
    ("clearing", "currency", "EURO"),
    ("auth_request", "card_id", "acct_00000001"),
    ("auth_request", "card_id", "card_"),
    ("auth_request", "card_id", None),
    ("auth_request", "card_id", 42),
    ("auth_request", "device_id", "ip_00000001"),
    ("auth_request", "flow_id", "flow_1"),
    ("auth_request", "mcc", "541"),
    ("auth_request", "mcc", 5411),
    ("auth_request", "merchant_country", "GBR"),
    ("auth_request", "channel", "atm"),
    ("auth_request", "entry_mode", "CHIP"),
    ("clearing", "clearing_id", "rfd_000000000001"),
    ("reversal", "reason", "fraud"),
    ("label_event", "label_type", "truth"),
    ("label_event", "label_value", "FRAUD"),
    ("label_event", "label_event_id", "lbl_000000000001_4"),
    ("label_event", "effective_ts_utc", "2024-03-01T12:00:00Z"),
]
_NOT_A_REAL_DAY = ("label_event", "effective_ts_utc", "2024-02-30T12:00:00.000000Z")
"""Right form, impossible date: the model refuses it; a JSON Schema pattern cannot."""


@pytest.mark.parametrize(("event_type", "field", "value"), [*BAD_VALUES, _NOT_A_REAL_DAY])
def test_typical_bad_values_are_refused(event_type: str, field: str, value: Any) -> None:
    model = PAYLOAD_MODELS[(event_type, "v1")]
    with pytest.raises(ValidationError) as info:
        model.model_validate(make_payload(event_type, **{field: value}))
    assert [e["loc"] for e in info.value.errors()] == [(field,)]


@pytest.mark.parametrize("key", sorted(PAYLOAD_MODELS))
def test_an_extra_field_is_refused(key: tuple[str, str]) -> None:
    with pytest.raises(ValidationError):
        PAYLOAD_MODELS[key].model_validate(make_payload(key[0], note="x"))


@pytest.mark.parametrize("truth_field", sorted(TRUTH_COLUMNS))
def test_a_label_event_carrying_a_truth_field_is_refused(truth_field: str) -> None:
    with pytest.raises(ValidationError):
        LabelEventV1.model_validate(make_payload("label_event", **{truth_field: "fraud"}))


@pytest.mark.parametrize("model", [AuthRequestV1, ClearingV1])
def test_a_nullable_or_required_key_may_not_be_left_out(model: type[BaseModel]) -> None:
    event_type = {AuthRequestV1: "auth_request", ClearingV1: "clearing"}[model]
    payload = make_payload(event_type)
    for name in payload:
        with pytest.raises(ValidationError):
            model.model_validate({k: v for k, v in payload.items() if k != name})


@pytest.mark.parametrize("key", sorted(PAYLOAD_MODELS))
def test_every_model_says_what_the_event_is(key: tuple[str, str]) -> None:
    model = PAYLOAD_MODELS[key]
    assert model.__doc__ and model.__doc__ != BaseModel.__doc__
    assert model.model_json_schema()["description"] == inspect.cleandoc(model.__doc__)


# -- generated JSON Schemas -------------------------------------------------------------------


def test_committed_payload_schemas_match_the_models() -> None:
    drifted = diff_schemas(REPO_ROOT, PAYLOAD_SCHEMA_DIR)
    assert not drifted, f"payload schemas drifted: {drifted}; run `fp schemas generate`"


def test_one_payload_schema_file_per_event_type_and_version() -> None:
    expected = {f"{PAYLOAD_SCHEMA_DIR}/{t}.{v}.schema.json" for t, v in PAYLOAD_MODELS}
    assert set(render_schemas(PAYLOAD_SCHEMA_DIR)) == expected


def _schema_validator(key: tuple[str, str]) -> jsonschema.Draft202012Validator:
    rel = f"{PAYLOAD_SCHEMA_DIR}/{key[0]}.{key[1]}.schema.json"
    schema = canonical_loads(render_schemas(PAYLOAD_SCHEMA_DIR)[rel])
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("key", sorted(PAYLOAD_MODELS))
def test_the_schema_accepts_the_sample_and_refuses_an_extra_field(key: tuple[str, str]) -> None:
    validator = _schema_validator(key)
    validator.validate(make_payload(key[0]))
    assert not validator.is_valid(make_payload(key[0], note="x"))


@pytest.mark.parametrize(("event_type", "field", "value"), BAD_VALUES)
def test_the_schema_refuses_what_the_model_refuses(event_type: str, field: str, value: Any) -> None:
    assert not _schema_validator((event_type, "v1")).is_valid(
        make_payload(event_type, **{field: value})
    )


# -- rows of a real world, framed the way WSP frames them -------------------------------------


def _frame(row: dict[str, Any], time_column: str) -> dict[str, Any]:
    """WSP's payload: every column but the time column, timestamps in the wire form."""
    return {
        name: format_ts(value) if isinstance(value, datetime) else value
        for name, value in row.items()
        if name != time_column
    }


def test_every_streamed_row_of_a_generated_world_validates(tiny_world: Path) -> None:
    catalogue = yaml.safe_load((tiny_world / "interface_pack.yaml").read_text(encoding="utf-8"))
    counted = 0
    for output in (o for o in catalogue["outputs"] if o["role"] in STREAMED_ROLES):
        model = _model_of(output)
        for part in sorted((tiny_world / "outputs" / output["output_id"]).rglob("*.parquet")):
            for row in pq.read_table(part).to_pylist():
                model.model_validate(_frame(row, output["time_column"]))
                counted += 1
    assert counted > 1000


# -- public surface ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", ".fields", ".auth_request", ".clearing", ".refund", ".reversal", ".label_event"]
)
def test_every_payload_module_lists_only_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"app.rails.payloads{name}")
    assert module.__all__ and [n for n in module.__all__ if not hasattr(module, n)] == []
    assert len(set(module.__all__)) == len(module.__all__)

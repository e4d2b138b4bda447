"""IG receipts: each decision has one legal shape; receipts round-trip through canonical JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef, IngestionReceipt, QuarantineRef, ReceiptDecision

MakeReceipt = Callable[..., IngestionReceipt]
DECISIONS = ["ADMIT", "DUPLICATE", "QUARANTINE"]
DIGEST = {"algo": "sha256", "hex": "f" * 64}


@pytest.mark.parametrize("decision", DECISIONS)
def test_each_decision_has_a_valid_shape(make_receipt: MakeReceipt, decision: str) -> None:
    assert make_receipt(decision).decision is ReceiptDecision(decision)


@pytest.mark.parametrize("decision", DECISIONS)
def test_receipt_round_trips_through_canonical_json(
    make_receipt: MakeReceipt, decision: str
) -> None:
    receipt = make_receipt(decision)
    raw = canonical_dumps(receipt.model_dump(mode="json"))
    assert IngestionReceipt.model_validate(canonical_loads(raw)) == receipt
    assert IngestionReceipt.model_validate_json(raw) == receipt


def test_quarantine_of_unparseable_bytes_needs_no_event_fields(make_receipt: MakeReceipt) -> None:
    receipt = make_receipt(
        "QUARANTINE",
        reason_codes=[ReasonCode.ENVELOPE_NOT_JSON],
        event_id=None,
        event_type=None,
        run_id=None,
        pins=None,
        payload_hash=None,
    )
    assert receipt.pins is None


@pytest.mark.parametrize(
    ("decision", "overrides"),
    [
        ("ADMIT", {"eb_ref": None}),  # a publish failure never yields ADMIT
        ("ADMIT", {"payload_hash": None}),
        ("ADMIT", {"pins": None, "run_id": None}),
        ("ADMIT", {"reason_codes": [ReasonCode.RUN_NOT_READY]}),
        ("ADMIT", {"quarantine_ref": {"object_key": "ig/q/x", "digest": DIGEST}}),
        ("DUPLICATE", {"eb_ref": None}),
        ("DUPLICATE", {"reason_codes": []}),
        ("DUPLICATE", {"event_id": None}),
        ("QUARANTINE", {"quarantine_ref": None}),
        ("QUARANTINE", {"eb_ref": {"topic": "fp.bus.traffic.v1", "partition": 0, "offset": 0}}),
        ("QUARANTINE", {"reason_codes": []}),
    ],
)
def test_a_decision_with_the_wrong_shape_is_refused(
    make_receipt: MakeReceipt, decision: str, overrides: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        make_receipt(decision, **overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"run_id": "9" * 32},  # disagrees with pins.run_id
        {"run_id": None},  # pins given but run_id left out
        {"reason_codes": ["NOT_A_CODE"]},
        {"reason_codes": [ReasonCode.DUPLICATE_EVENT, ReasonCode.DUPLICATE_EVENT]},
        {"admitted_at_utc": "2024-03-01T12:00:01Z"},
        {"receipt_id": "E" * 64},
        {"event_type": "Auth-Request"},
        {"note": "free text"},
    ],
)
def test_malformed_receipts_are_refused(
    make_receipt: MakeReceipt, overrides: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        make_receipt("DUPLICATE", **overrides)


def test_an_unknown_decision_is_refused(make_receipt: MakeReceipt) -> None:
    with pytest.raises(ValidationError):
        make_receipt("REJECT")


def test_receipt_is_frozen(make_receipt: MakeReceipt) -> None:
    with pytest.raises(ValidationError):
        make_receipt().decision = ReceiptDecision.QUARANTINE  # type: ignore[misc]  # under test


@pytest.mark.parametrize(
    "fields",
    [
        {"topic": "fp.bus.traffic.v1", "partition": -1, "offset": 0},
        {"topic": "fp.bus.traffic.v1", "partition": 0, "offset": -1},
        {"topic": "fp.bus.traffic.v1", "partition": True, "offset": 0},
        {"topic": "fp.bus.traffic.v1", "partition": "0", "offset": 0},
        {"topic": "fp bus", "partition": 0, "offset": 0},
        {"topic": "", "partition": 0, "offset": 0},
    ],
)
def test_eb_ref_refuses_negative_or_non_int_positions_and_bad_topics(
    fields: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError):
        EbRef(**fields)


@pytest.mark.parametrize(
    "key", ["/ig/quarantine/x", "ig/../sr/x", "ig//x", "ig/./x", "ig/x/", "ig/q x", ""]
)
def test_quarantine_ref_refuses_unsafe_object_keys(key: str) -> None:
    with pytest.raises(ValidationError):
        QuarantineRef.model_validate({"object_key": key, "digest": DIGEST})


def test_receipt_decision_values_are_pinned() -> None:
    assert [d.value for d in ReceiptDecision] == DECISIONS

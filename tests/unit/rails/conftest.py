"""Factory fixtures for rails tests: valid by default, each test overrides one field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from app.rails.envelope import CanonicalEnvelope
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev, policy_rev_of
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import IngestionReceipt

RUN_ID = "0123456789abcdef0123456789abcdef"
MANIFEST_FINGERPRINT = "a" * 64
PARAMETER_HASH = "b" * 64
EVENT_ID = "c" * 64
PAYLOAD_HASH = "d" * 64


def pins_fields(**overrides: Any) -> dict[str, Any]:
    return {
        "manifest_fingerprint": MANIFEST_FINGERPRINT,
        "parameter_hash": PARAMETER_HASH,
        "scenario_id": "baseline",
        "run_id": RUN_ID,
    } | overrides


def envelope_fields(**overrides: Any) -> dict[str, Any]:
    return {
        "event_id": EVENT_ID,
        "event_type": "auth_request",
        "schema_version": "v1",
        "ts_utc": "2024-03-01T12:00:00.000001Z",
        **pins_fields(),
        "seed": 42,
        "payload": {"card_id": "card_1", "amount_minor": 1250, "currency": "EUR"},
    } | overrides


def receipt_fields(decision: str = "ADMIT", **overrides: Any) -> dict[str, Any]:
    policy = policy_rev_of("ig", "r1", {"max_bytes": 1024})
    base: dict[str, Any] = {
        "receipt_id": "e" * 64,
        "decision": decision,
        "event_id": EVENT_ID,
        "event_type": "auth_request",
        "run_id": RUN_ID,
        "pins": pins_fields(),
        "payload_hash": PAYLOAD_HASH,
        "policy_rev": policy,
        "admitted_at_utc": "2024-03-01T12:00:01.000000Z",
    }
    if decision in ("ADMIT", "DUPLICATE"):
        base["eb_ref"] = {"topic": "fp.bus.traffic.v1", "partition": 3, "offset": 17}
    if decision == "DUPLICATE":
        base["reason_codes"] = [ReasonCode.DUPLICATE_EVENT]
    if decision == "QUARANTINE":
        base["reason_codes"] = [ReasonCode.PAYLOAD_HASH_MISMATCH]
        base["quarantine_ref"] = {
            "object_key": f"ig/quarantine/{RUN_ID}/{'f' * 64}.bin",
            "digest": {"algo": "sha256", "hex": "f" * 64},
        }
    return base | overrides


@pytest.fixture
def make_pins() -> Callable[..., ContextPins]:
    return lambda **overrides: ContextPins(**pins_fields(**overrides))


@pytest.fixture
def make_envelope_fields() -> Callable[..., dict[str, Any]]:
    return envelope_fields


@pytest.fixture
def make_envelope() -> Callable[..., CanonicalEnvelope]:
    return lambda **overrides: CanonicalEnvelope(**envelope_fields(**overrides))


@pytest.fixture
def make_envelope_bytes() -> Callable[..., bytes]:
    """Raw wire bytes; pass ``drop=("field",)`` to leave fields out entirely."""

    def build(drop: tuple[str, ...] = (), **overrides: Any) -> bytes:
        fields = envelope_fields(**overrides)
        return orjson.dumps({k: v for k, v in fields.items() if k not in drop})

    return build


@pytest.fixture
def make_receipt_fields() -> Callable[..., dict[str, Any]]:
    return receipt_fields


@pytest.fixture
def make_receipt() -> Callable[..., IngestionReceipt]:
    return lambda decision="ADMIT", **overrides: IngestionReceipt(
        **receipt_fields(decision, **overrides)
    )


@pytest.fixture
def policy_rev() -> PolicyRev:
    return policy_rev_of("ig", "r1", {"max_bytes": 1024})

"""Reason codes are wire contracts: values equal names, and released values never disappear."""

from __future__ import annotations

from app.rails.canonical_json import canonical_dumps
from app.rails.reason_codes import ReasonCode

# Every value ever released. Adding a code means appending here; removing or renaming one
# breaks stored receipts and must fail this test.
RELEASED = {
    "ENVELOPE_NOT_JSON",
    "ENVELOPE_INVALID",
    "TS_FORMAT_INVALID",
    "EVENT_TYPE_UNKNOWN",
    "SCHEMA_VERSION_UNKNOWN",
    "PAYLOAD_SCHEMA_INVALID",
    "PINS_UNKNOWN_RUN",
    "RUN_NOT_READY",
    "RUN_FAILED",
    "DUPLICATE_EVENT",
    "PAYLOAD_HASH_MISMATCH",
    "RECORD_TOO_LARGE",
    "PUBLISH_FAILED",
    "AUTH_MISSING",
    "AUTH_INVALID",
    "BATCH_TOO_LARGE",
    "GATE_FLAG_MISSING",
    "GATE_DIGEST_MISMATCH",
    "PACK_NOT_SEALED",
    "OUTPUT_MISSING",
    "TRUTH_NOT_STREAMABLE",
    "RUN_CONFLICT",
}


def test_every_released_code_still_exists() -> None:
    assert {code.value for code in ReasonCode} >= RELEASED


def test_every_code_value_equals_its_name() -> None:
    assert all(code.value == code.name for code in ReasonCode)


def test_codes_serialise_as_plain_strings() -> None:
    assert canonical_dumps([ReasonCode.RUN_NOT_READY]) == b'["RUN_NOT_READY"]'
    assert ReasonCode("RUN_NOT_READY") is ReasonCode.RUN_NOT_READY

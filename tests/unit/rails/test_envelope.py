"""The canonical envelope and its never-raising parser: each bad input maps to a stable code."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.envelope import (
    DEFAULT_MAX_ENVELOPE_BYTES,
    CanonicalEnvelope,
    EnvelopeRejection,
    dump_envelope,
    parse_envelope,
    payload_hash,
)
from app.rails.pins import ContextPins
from app.rails.reason_codes import ReasonCode

REQUIRED = (
    "event_id",
    "event_type",
    "schema_version",
    "ts_utc",
    "manifest_fingerprint",
    "parameter_hash",
    "scenario_id",
    "run_id",
    "seed",
    "payload",
)
MakeBytes = Callable[..., bytes]


def _rejected(result: CanonicalEnvelope | EnvelopeRejection) -> EnvelopeRejection:
    assert isinstance(result, EnvelopeRejection), result
    return result


def test_valid_bytes_parse_to_an_envelope(make_envelope_bytes: MakeBytes) -> None:
    parsed = parse_envelope(make_envelope_bytes())
    assert isinstance(parsed, CanonicalEnvelope)
    assert parsed.event_type == "auth_request"


def test_parse_accepts_bytearray_and_memoryview(make_envelope_bytes: MakeBytes) -> None:
    raw = make_envelope_bytes()
    assert parse_envelope(bytearray(raw)) == parse_envelope(memoryview(raw)) == parse_envelope(raw)


def test_explicit_null_optionals_equal_absent_ones(make_envelope_bytes: MakeBytes) -> None:
    with_nulls = make_envelope_bytes(emitted_at_utc=None, producer=None, trace_id=None)
    assert parse_envelope(with_nulls) == parse_envelope(make_envelope_bytes())


def test_all_optional_fields_are_accepted(make_envelope_bytes: MakeBytes) -> None:
    parsed = parse_envelope(
        make_envelope_bytes(
            emitted_at_utc="2024-03-01T12:00:09.000000Z",
            producer="wsp",
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            span_id="00f067aa0ba902b7",
            parent_event_id="9" * 64,
        )
    )
    assert isinstance(parsed, CanonicalEnvelope)
    assert parsed.emitted_at_utc != parsed.ts_utc  # two clocks, never collapsed


def test_dump_envelope_is_canonical_and_omits_absent_optionals(
    make_envelope: Callable[..., CanonicalEnvelope],
) -> None:
    envelope = make_envelope()
    raw = dump_envelope(envelope)
    assert raw == canonical_dumps(canonical_loads(raw))
    assert b"emitted_at_utc" not in raw and b"null" not in raw
    assert parse_envelope(raw) == envelope


def test_pins_returns_the_four_pins(make_envelope: Callable[..., CanonicalEnvelope]) -> None:
    envelope = make_envelope()
    pins = envelope.pins()
    assert isinstance(pins, ContextPins)
    assert pins.run_id == envelope.run_id
    assert pins.manifest_fingerprint == envelope.manifest_fingerprint


def test_payload_hash_is_sha256_of_canonical_payload(
    make_envelope: Callable[..., CanonicalEnvelope],
) -> None:
    envelope = make_envelope(payload={"b": 2, "a": 1})
    assert payload_hash(envelope) == hashlib.sha256(b'{"a":1,"b":2}').hexdigest()
    assert payload_hash(envelope) == payload_hash(make_envelope(payload={"a": 1, "b": 2}))


def test_envelope_is_closed_and_frozen(make_envelope: Callable[..., CanonicalEnvelope]) -> None:
    with pytest.raises(ValidationError):
        make_envelope(amount=1)
    with pytest.raises(ValidationError):
        make_envelope().ts_utc = "2024-03-01T12:00:00.000000Z"  # type: ignore[misc]  # under test


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"NaN", b"{'a': 1}", b"1e400"])
def test_non_json_bytes_are_envelope_not_json(raw: bytes) -> None:
    assert _rejected(parse_envelope(raw)).reason_code is ReasonCode.ENVELOPE_NOT_JSON


@pytest.mark.parametrize("raw", [b"[]", b'"envelope"', b"42", b"null"])
def test_json_that_is_not_an_object_is_envelope_invalid_at_root(raw: bytes) -> None:
    rejection = _rejected(parse_envelope(raw))
    assert rejection.reason_code is ReasonCode.ENVELOPE_INVALID
    assert rejection.field_paths == ("<root>",)


@pytest.mark.parametrize("field", REQUIRED)
def test_a_missing_required_field_is_envelope_invalid_naming_it(
    make_envelope_bytes: MakeBytes, field: str
) -> None:
    rejection = _rejected(parse_envelope(make_envelope_bytes(drop=(field,))))
    assert rejection.reason_code is ReasonCode.ENVELOPE_INVALID
    assert rejection.field_paths == (field,)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 1),  # unknown top-level field
        ("event_id", "C" * 64),
        ("event_id", "c" * 32),
        ("event_type", "AuthRequest"),
        ("event_type", "auth request"),
        ("schema_version", "1"),
        ("schema_version", "v0"),
        ("scenario_id", "../x"),
        ("run_id", "f" * 64),
        ("seed", "42"),
        ("seed", True),
        ("seed", -1),
        ("seed", 2**63),
        ("seed", 4.0),
        ("payload", []),
        ("payload", "text"),
        ("producer", ""),
        ("trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
        ("span_id", "00f067aa"),
        ("parent_event_id", "p"),
        ("ts_utc", 1709294405),  # a number, not a string: a type error, not a format error
    ],
)
def test_a_malformed_field_is_envelope_invalid_naming_it(
    make_envelope_bytes: MakeBytes, field: str, value: Any
) -> None:
    rejection = _rejected(parse_envelope(make_envelope_bytes(**{field: value})))
    assert rejection.reason_code is ReasonCode.ENVELOPE_INVALID
    assert rejection.field_paths == (field,)


@pytest.mark.parametrize("field", ["ts_utc", "emitted_at_utc"])
@pytest.mark.parametrize(
    "value",
    ["2024-03-01T12:00:00Z", "2024-03-01T12:00:00.000+00:00", "2024-02-30T00:00:00.000000Z"],
)
def test_a_bad_timestamp_form_is_ts_format_invalid(
    make_envelope_bytes: MakeBytes, field: str, value: str
) -> None:
    rejection = _rejected(parse_envelope(make_envelope_bytes(**{field: value})))
    assert rejection.reason_code is ReasonCode.TS_FORMAT_INVALID
    assert rejection.field_paths == (field,)


def test_timestamp_and_other_errors_together_are_envelope_invalid_with_all_paths(
    make_envelope_bytes: MakeBytes,
) -> None:
    rejection = _rejected(parse_envelope(make_envelope_bytes(ts_utc="yesterday", seed=-1)))
    assert rejection.reason_code is ReasonCode.ENVELOPE_INVALID
    assert set(rejection.field_paths) == {"ts_utc", "seed"}


def test_oversized_bytes_are_record_too_large_before_parsing() -> None:
    raw = b" " * (DEFAULT_MAX_ENVELOPE_BYTES + 1)
    assert _rejected(parse_envelope(raw)).reason_code is ReasonCode.RECORD_TOO_LARGE


def test_max_bytes_is_a_caller_limit(make_envelope_bytes: MakeBytes) -> None:
    raw = make_envelope_bytes()
    assert isinstance(parse_envelope(raw, max_bytes=len(raw)), CanonicalEnvelope)
    rejection = _rejected(parse_envelope(raw, max_bytes=len(raw) - 1))
    assert rejection.reason_code is ReasonCode.RECORD_TOO_LARGE


def test_payload_too_deep_to_canonicalise_is_envelope_invalid_at_payload(
    make_envelope_bytes: MakeBytes,
) -> None:
    # orjson reads 300 levels but cannot write them, so the payload could never be hashed.
    raw = make_envelope_bytes(payload={"d": "DEEP"}).replace(b'"DEEP"', b"[" * 300 + b"]" * 300)
    rejection = _rejected(parse_envelope(raw))
    assert rejection.reason_code is ReasonCode.ENVELOPE_INVALID
    assert rejection.field_paths == ("payload",)


def test_rejection_references_the_raw_bytes_by_digest_and_size() -> None:
    raw = b'{"not": "an envelope"}'
    rejection = _rejected(parse_envelope(raw))
    assert rejection.raw_digest.hex == hashlib.sha256(raw).hexdigest()
    assert rejection.raw_size_bytes == len(raw)


def test_rejection_detail_never_echoes_input_values(make_envelope_bytes: MakeBytes) -> None:
    secret = "sk_live_PLANTED_SECRET_0123456789"
    for raw in (
        make_envelope_bytes(producer=secret + " !"),
        make_envelope_bytes(ts_utc=secret),
        make_envelope_bytes(seed=secret),
    ):
        rejection = _rejected(parse_envelope(raw))
        assert secret not in rejection.model_dump_json()


def test_parse_refuses_non_bytes_as_a_caller_bug() -> None:
    with pytest.raises(TypeError):
        parse_envelope("{}")  # type: ignore[arg-type]  # wrong type on purpose


@settings(max_examples=300, deadline=500)
@given(raw=st.binary(max_size=512))
def test_parse_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    assert isinstance(parse_envelope(raw), CanonicalEnvelope | EnvelopeRejection)


_json_leaf = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8)


@settings(max_examples=300, deadline=500)
@given(
    obj=st.dictionaries(
        st.sampled_from([*REQUIRED, "producer", "emitted_at_utc", "extra"]), _json_leaf
    )
)
def test_parse_never_raises_on_arbitrary_json_objects(obj: dict[str, Any]) -> None:
    result = parse_envelope(orjson.dumps(obj))
    assert isinstance(result, EnvelopeRejection)
    assert result.reason_code in {ReasonCode.ENVELOPE_INVALID, ReasonCode.TS_FORMAT_INVALID}

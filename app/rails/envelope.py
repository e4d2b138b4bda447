"""The canonical envelope: the closed top level every event on the platform travels in.

This module owns the envelope rail (DESIGN section 2): ``event_id``, ``event_type``,
``schema_version``, ``ts_utc`` (domain time), the four pins flattened at top level plus ``seed``,
the optional ``emitted_at_utc``, ``producer``, ``trace_id``, ``span_id``, ``parent_event_id``, and
``payload``, whose own schema is chosen by ``event_type`` + ``schema_version`` (validated by IG, not
here). Unknown top-level fields are refused, so a typo never rides along silently.

:func:`parse_envelope` is the wire boundary and never raises on bad input: it returns either the
envelope or an :class:`EnvelopeRejection` carrying a stable reason code, the failing field paths
and the raw bytes' digest, ready for a quarantine record. Bad input is data, not an exception.

Duplicate object keys (``{"amount_minor": 100, "amount_minor": 99999999}``) are refused with
``DUPLICATE_JSON_KEY`` and the key's path (issue #11): orjson keeps the last value silently, other
parsers keep the first, so one record would be two different events to two consumers. The check
costs one ``orjson.dumps`` (~1 µs) when the bytes are compact JSON in the order orjson writes back
(every platform producer's canonical form); only other layouts are parsed a second time by the
standard library with a pairs hook (~10 µs for a 1 kB record).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, ValidationError

from app.rails.canonical_json import canonical_dumps, sha256_hex
from app.rails.digests import Digest, digest_bytes
from app.rails.errors import ContractError
from app.rails.ids import Hex32, Hex64
from app.rails.pins import ContextPins, ScenarioId, Seed
from app.rails.reason_codes import ReasonCode
from app.rails.timefmt import TS_FORMAT_ERROR_TYPE, TsUtc

__all__ = [
    "DEFAULT_MAX_ENVELOPE_BYTES",
    "EVENT_TYPE_PATTERN",
    "CanonicalEnvelope",
    "EnvelopeRejection",
    "EventType",
    "SchemaVersion",
    "dump_envelope",
    "duplicate_key_paths",
    "parse_envelope",
    "payload_hash",
]

DEFAULT_MAX_ENVELOPE_BYTES = 1_048_576
"""1 MiB, about Kafka's default ``message.max.bytes`` (1 048 588): larger could not publish."""

_MAX_DETAIL_CHARS = 1000  # a rejection is a small record, whatever the input looked like

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"

EventType = Annotated[str, Strict(), StringConstraints(pattern=EVENT_TYPE_PATTERN, max_length=128)]
"""Lowercase dotted name, e.g. ``auth_request`` or ``label.chargeback``."""

SchemaVersion = Annotated[str, Strict(), StringConstraints(pattern=r"^v[1-9][0-9]{0,5}$")]
"""``v1``, ``v2``, ...: the payload schema version for this ``event_type``."""

ProducerName = Annotated[
    str, Strict(), StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
]
"""Who submitted the event (``wsp``, ``bank-gateway/eu-1``); an identifier, never a credential."""
TraceId = Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9a-f]{32}$")]
"""W3C trace-context trace-id (32 lowercase hex), so traces join OpenTelemetry tooling."""
SpanId = Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9a-f]{16}$")]
"""W3C trace-context span-id (16 lowercase hex)."""


class CanonicalEnvelope(BaseModel):
    """The closed top level of every event; the payload's schema is named by type and version."""

    # Frozen at the top level only: ``payload`` stays a plain dict, so treat it as read-only.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    event_id: Hex64
    event_type: EventType
    schema_version: SchemaVersion
    ts_utc: TsUtc = Field(description="Domain time: when it happened in the world.")
    manifest_fingerprint: Hex64
    parameter_hash: Hex64
    scenario_id: ScenarioId
    run_id: Hex32
    seed: Seed
    emitted_at_utc: TsUtc | None = Field(
        default=None, description="Emission time: when the producer sent it (never ts_utc)."
    )
    producer: ProducerName | None = None
    trace_id: TraceId | None = None
    span_id: SpanId | None = None
    parent_event_id: Hex64 | None = None
    payload: dict[str, Any]

    def pins(self) -> ContextPins:
        """The four pins this event claims."""
        return ContextPins(
            manifest_fingerprint=self.manifest_fingerprint,
            parameter_hash=self.parameter_hash,
            scenario_id=self.scenario_id,
            run_id=self.run_id,
        )


class EnvelopeRejection(BaseModel):
    """Why raw bytes are not an envelope; everything a quarantine record needs, by reference.

    ``field_paths`` are dotted paths (``payload``, ``emitted_at_utc``, ``<root>``); ``detail`` is
    for people and may change wording. It never echoes input values, which may be sensitive.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason_code: ReasonCode
    field_paths: tuple[str, ...] = ()
    raw_digest: Digest
    raw_size_bytes: int = Field(ge=0)
    detail: str


def payload_hash(envelope: CanonicalEnvelope) -> str:
    """hex64 sha256 over the canonical JSON of the payload: IG's collision check under a dedupe key.

    Raises:
        ContractError: the payload has no canonical JSON form (:func:`parse_envelope` already
            refuses such payloads, so only hand-built envelopes can get here).
    """
    return sha256_hex(canonical_dumps(envelope.payload))


def dump_envelope(envelope: CanonicalEnvelope) -> bytes:
    """Canonical bytes of an envelope for the bus; absent optional fields are omitted, not null."""
    return canonical_dumps(envelope.model_dump(mode="json", exclude_none=True))


def parse_envelope(
    raw: bytes, *, max_bytes: int = DEFAULT_MAX_ENVELOPE_BYTES
) -> CanonicalEnvelope | EnvelopeRejection:
    """Parse wire bytes into an envelope, or say precisely why not. Never raises on bad input.

    Reason codes: RECORD_TOO_LARGE (over ``max_bytes``), ENVELOPE_NOT_JSON (not UTF-8 JSON),
    DUPLICATE_JSON_KEY (an object names a key twice, anywhere; paths name each one),
    ENVELOPE_INVALID (not an object, or any field missing, extra or malformed, or a payload with
    no canonical form), TS_FORMAT_INVALID (the *only* problems are timestamp formats).

    Raises:
        TypeError: ``raw`` is not bytes-like (a caller bug, not bad input).
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        # A caller bug, not bad input: bytes(5) would silently become five zero bytes.
        raise TypeError(f"parse_envelope takes bytes, got {type(raw).__name__}")
    data = bytes(raw)

    def reject(code: ReasonCode, detail: str, paths: tuple[str, ...] = ()) -> EnvelopeRejection:
        return EnvelopeRejection(
            reason_code=code,
            field_paths=paths,
            raw_digest=digest_bytes(data),
            raw_size_bytes=len(data),
            detail=detail[:_MAX_DETAIL_CHARS],
        )

    if len(data) > max_bytes:
        return reject(ReasonCode.RECORD_TOO_LARGE, f"{len(data)} bytes > limit {max_bytes}")
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return reject(ReasonCode.ENVELOPE_NOT_JSON, f"not UTF-8 JSON: {exc}")
    if not isinstance(obj, dict):
        return reject(ReasonCode.ENVELOPE_INVALID, "top level is not an object", ("<root>",))
    duplicated = duplicate_key_paths(data, obj)
    if duplicated:
        return reject(ReasonCode.DUPLICATE_JSON_KEY,
                      f"object keys named more than once: {', '.join(duplicated)}", duplicated)
    try:
        envelope = CanonicalEnvelope.model_validate(obj)
    except ValidationError as exc:
        return reject(*_classify(exc))
    try:
        canonical_dumps(envelope.payload)
    except ContractError as exc:
        # Parses, but could never be hashed or re-published byte-identically (e.g. nesting depth).
        return reject(ReasonCode.ENVELOPE_INVALID, f"payload: {exc}", ("payload",))
    return envelope


class _Pairs(dict[str, Any]):
    """A parsed object that remembers which of its keys the bytes named more than once."""

    duplicates: tuple[str, ...] = ()


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = _Pairs(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated: dict[str, None] = {}
        for key, _ in pairs:
            if key in seen:
                repeated[key] = None
            seen.add(key)
        obj.duplicates = tuple(repeated)
    return obj


def _duplicate_paths(root: Any) -> list[str]:
    """Paths of every repeated key under ``root`` (iterative: nesting may be ~1000 deep)."""
    out: list[str] = []
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            prefix = f"{path}." if path else ""
            out.extend(prefix + key for key in getattr(value, "duplicates", ()))
            stack.extend((prefix + key, inner) for key, inner in value.items()
                         if isinstance(inner, dict | list))
        else:
            prefix = f"{path}." if path else ""
            stack.extend((f"{prefix}{i}", inner) for i, inner in enumerate(value)
                         if isinstance(inner, dict | list))
    return sorted(out)


def duplicate_key_paths(data: bytes, parsed: Any) -> tuple[str, ...]:
    """Dotted paths of object keys that ``data`` names more than once (empty: none).

    ``parsed`` is orjson's reading of ``data``. If writing it back gives ``data`` byte for byte,
    every pair of the input survived the parse, so no key repeats (the common, ~1 µs case);
    otherwise the standard library parses again with a pairs hook that sees every pair.
    """
    try:
        if orjson.dumps(parsed) == data:
            return ()
    except orjson.JSONEncodeError:
        pass  # e.g. an integer beyond 64 bits: decide by the second parse
    try:
        again = json.loads(data, object_pairs_hook=_pairs_hook)
    except (ValueError, RecursionError):
        # orjson accepted what the stdlib does not (or nesting past its recursion limit, which
        # canonical JSON refuses anyway): no second opinion, the other checks still apply.
        return ()
    return tuple(_duplicate_paths(again))


def _classify(exc: ValidationError) -> tuple[ReasonCode, str, tuple[str, ...]]:
    """One stable code plus every failing path; messages are built without input values."""
    paths: list[str] = []
    problems: list[str] = []
    only_ts = True
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in err["loc"]) or "<root>"
        if path not in paths:
            paths.append(path)
        problems.append(f"{path}: {err['msg']}")
        only_ts = only_ts and err["type"] == TS_FORMAT_ERROR_TYPE
    code = ReasonCode.TS_FORMAT_INVALID if only_ts else ReasonCode.ENVELOPE_INVALID
    return code, "; ".join(problems), tuple(paths)

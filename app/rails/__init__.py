"""Rails: the contracts every component shares (pure, no I/O).

Canonical JSON and digests, deterministic ids, the exact timestamp form, ContextPins, the
canonical envelope and its never-raising parser, reason codes, IG receipts, policy revision stamps
and partition keys. Components import from here (or from the owning module) instead of hashing,
formatting times or inventing ids themselves, so every digest and id in the platform agrees.
JSON Schema export lives in :mod:`app.rails.schema_export` (tooling, not re-exported).
"""

from __future__ import annotations

from app.rails.canonical_json import canonical_dumps, canonical_loads, pretty_dumps, sha256_hex
from app.rails.digests import Digest, digest_bytes, digest_json, digest_matches
from app.rails.envelope import (
    CanonicalEnvelope,
    EnvelopeRejection,
    EventType,
    SchemaVersion,
    dump_envelope,
    parse_envelope,
    payload_hash,
)
from app.rails.errors import ContractError, FraudPlatformError
from app.rails.ids import (
    Hex32,
    Hex64,
    action_idempotency_key,
    decision_id,
    engine_event_id,
    make_id,
    ready_message_id,
    receipt_id,
    run_id,
    short_id,
)
from app.rails.partition_key import (
    DEFAULT_KEY_PRECEDENCE,
    derive_partition_key,
    kafka_partition,
    partition_key_bytes,
)
from app.rails.pins import ContextPins, ScenarioId, Seed
from app.rails.policy_rev import PolicyRev, policy_rev_of
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef, IngestionReceipt, QuarantineRef, ReceiptDecision
from app.rails.timefmt import (
    TsUtc,
    epoch_micros_to_ts,
    format_ts,
    from_epoch_micros,
    parse_ts,
    to_epoch_micros,
    ts_to_epoch_micros,
)

__all__ = [
    "DEFAULT_KEY_PRECEDENCE",
    "CanonicalEnvelope",
    "ContextPins",
    "ContractError",
    "Digest",
    "EbRef",
    "EnvelopeRejection",
    "EventType",
    "FraudPlatformError",
    "Hex32",
    "Hex64",
    "IngestionReceipt",
    "PolicyRev",
    "QuarantineRef",
    "ReasonCode",
    "ReceiptDecision",
    "ScenarioId",
    "SchemaVersion",
    "Seed",
    "TsUtc",
    "action_idempotency_key",
    "canonical_dumps",
    "canonical_loads",
    "decision_id",
    "derive_partition_key",
    "digest_bytes",
    "digest_json",
    "digest_matches",
    "dump_envelope",
    "engine_event_id",
    "epoch_micros_to_ts",
    "format_ts",
    "from_epoch_micros",
    "kafka_partition",
    "make_id",
    "parse_envelope",
    "parse_ts",
    "partition_key_bytes",
    "payload_hash",
    "policy_rev_of",
    "pretty_dumps",
    "ready_message_id",
    "receipt_id",
    "run_id",
    "sha256_hex",
    "short_id",
    "to_epoch_micros",
    "ts_to_epoch_micros",
]

"""Deterministic ids: sha256 over canonical JSON of a tagged tuple of the id's inputs.

This module owns the id rail. Every id is ``sha256(canonical_dumps([tag, *parts]))`` as 64 lowercase
hex, or its first 32 hex where a shorter id is named (``run_id``). The tag keeps ids of different
kinds apart even when their inputs coincide; canonical JSON makes the bytes independent of dict
order and of who built them. No uuid4, no wall clock, no randomness: the same inputs always give
the same id, so a retry, a redelivery or a replay lands on the same id and dedupes.

Tags are wire contracts: renaming one changes every id of that kind. Add builders, never rename.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Strict, StringConstraints

from app.rails.canonical_json import canonical_dumps, sha256_hex
from app.rails.errors import ContractError

__all__ = [
    "HEX32_PATTERN",
    "HEX64_PATTERN",
    "Hex32",
    "Hex64",
    "action_idempotency_key",
    "decision_id",
    "engine_event_id",
    "make_id",
    "ready_message_id",
    "receipt_id",
    "run_id",
    "short_id",
]

HEX64_PATTERN = r"^[0-9a-f]{64}$"
HEX32_PATTERN = r"^[0-9a-f]{32}$"

Hex64 = Annotated[str, Strict(), StringConstraints(pattern=HEX64_PATTERN)]
"""64 lowercase hex characters: a full sha256 id or digest."""

Hex32 = Annotated[str, Strict(), StringConstraints(pattern=HEX32_PATTERN)]
"""32 lowercase hex characters: a short id such as ``run_id``."""

_HEX_RE = {64: re.compile(r"[0-9a-f]{64}"), 32: re.compile(r"[0-9a-f]{32}")}


def make_id(tag: str, *parts: Any) -> str:
    """hex64 sha256 of ``canonical_dumps([tag, *parts])``; parts must be JSON values.

    Raises:
        ContractError: empty tag, or a part that has no canonical JSON form.
    """
    if not isinstance(tag, str) or not tag:
        raise ContractError("id: the tag must be a non-empty string")
    return sha256_hex(canonical_dumps([tag, *parts]))


def short_id(tag: str, *parts: Any) -> str:
    """The first 32 hex of :func:`make_id`, for ids the design names as short."""
    return make_id(tag, *parts)[:32]


def _hex(name: str, value: object, length: int) -> str:
    """Refuse non-canonical hex: a wrong form (upper case, short) would silently mint a new id."""
    if not isinstance(value, str) or _HEX_RE[length].fullmatch(value) is None:
        raise ContractError(f"id: {name} must be {length} lowercase hex, got {value!r:.80}")
    return value


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ContractError(f"id: {name} must be a non-empty string, got {value!r:.80}")
    return value


def engine_event_id(
    output_id: str,
    pk_values: dict[str, Any],
    manifest_fingerprint: str,
    parameter_hash: str,
    seed: int,
    scenario_id: str,
) -> str:
    """``event_id`` of an engine row: the same world row keeps its id across runs (no run_id).

    Args:
        output_id: the engine output the row belongs to.
        pk_values: the row's primary-key columns by name (key order does not matter).
    """
    if not isinstance(pk_values, dict) or not pk_values:
        raise ContractError("id: pk_values must be a non-empty dict of primary-key columns")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ContractError(f"id: seed must be an int >= 0, got {seed!r:.80}")
    return make_id(
        "engine_event",
        _text("output_id", output_id),
        pk_values,
        _hex("manifest_fingerprint", manifest_fingerprint, 64),
        _hex("parameter_hash", parameter_hash, 64),
        seed,
        _text("scenario_id", scenario_id),
    )


def run_id(equivalence_key: str) -> str:
    """SR's ``run_id`` (hex32) from a run request's equivalence key: equal requests, one run."""
    return short_id("run", _text("equivalence_key", equivalence_key))


def decision_id(run_id: str, trigger_event_id: str) -> str:
    """One decision per trigger event per run, across redelivery and replay."""
    return make_id(
        "decision", _hex("run_id", run_id, 32), _hex("trigger_event_id", trigger_event_id, 64)
    )


def action_idempotency_key(run_id: str, decision_id: str, action_type: str) -> str:
    """AL's dedupe key: retries of one intent reuse it, so the side effect happens once."""
    return make_id(
        "action",
        _hex("run_id", run_id, 32),
        _hex("decision_id", decision_id, 64),
        _text("action_type", action_type),
    )


def ready_message_id(run_id: str, run_facts_digest_hex: str) -> str:
    """READY ``message_id``: re-announcing the same run facts is the same message."""
    return make_id(
        "ready", _hex("run_id", run_id, 32), _hex("run_facts_digest_hex", run_facts_digest_hex, 64)
    )


def receipt_id(
    run_id: str | None,
    event_type: str | None,
    event_id: str | None,
    payload_hash: str,
    decision: str,
) -> str:
    """IG receipt id; re-processing the same submission rewrites the same receipt (a no-op).

    ``decision`` is part of the id so an ADMIT and the DUPLICATE receipt of a later re-send are
    two append-only records rather than a create-only collision. For bytes that never parsed as an
    envelope pass ``None`` for the first three and the raw bytes' sha256 as ``payload_hash``.
    """
    return make_id(
        "receipt",
        None if run_id is None else _hex("run_id", run_id, 32),
        None if event_type is None else _text("event_type", event_type),
        None if event_id is None else _hex("event_id", event_id, 64),
        _hex("payload_hash", payload_hash, 64),
        str(_text("decision", decision)),  # a StrEnum member hashes as its plain value
    )

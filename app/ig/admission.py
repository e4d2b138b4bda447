"""IG's admission decision for one submission: a pure function of bytes and current state.

Order (DESIGN.md section 4): envelope → payload schema → pins of a READY run → dedupe on
``(run_id, event_type, event_id)`` → partition key. Publishing, the ack, the dedupe write and
the receipt happen in the agent, after this decision; an ``Admit`` is only a *candidate* until
the broker has acked it (a publish failure never becomes ADMIT).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.ig.payload_registry import PayloadIssue, PayloadRegistry
from app.rails.dedupe_key import dedupe_key
from app.rails.digests import Digest
from app.rails.envelope import CanonicalEnvelope, parse_envelope, payload_hash
from app.rails.partition_key import derive_partition_key
from app.rails.pins import ContextPins
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef

__all__ = ["Admit", "Decision", "DedupeEntry", "Duplicate", "Quarantine", "RunState", "assess"]


class RunState(BaseModel):
    """What IG knows of a run (fed from SR's control facts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pins: ContextPins
    seed: int
    status: Literal["READY", "FAILED"]


class DedupeEntry(BaseModel):
    """What IG recorded for an admitted dedupe key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payload_hash: str
    eb_ref: EbRef


@dataclass(frozen=True)
class Admit:
    envelope: CanonicalEnvelope
    key: bytes
    payload_hash: str
    partition_key: str
    stream: Literal["traffic", "labels"]


@dataclass(frozen=True)
class Duplicate:
    envelope: CanonicalEnvelope
    key: bytes
    payload_hash: str
    original: EbRef


@dataclass(frozen=True)
class Quarantine:
    reason_code: ReasonCode
    raw_digest: Digest
    detail: str
    field_paths: tuple[str, ...] = ()
    envelope: CanonicalEnvelope | None = None
    payload_hash: str | None = None


Decision = Admit | Duplicate | Quarantine


def _quarantine(env: CanonicalEnvelope, raw_digest: Digest, issue: PayloadIssue | ReasonCode,
                detail: str = "") -> Quarantine:
    if isinstance(issue, PayloadIssue):
        return Quarantine(issue.reason_code, raw_digest, issue.detail, issue.field_paths, env,
                          payload_hash(env))
    return Quarantine(issue, raw_digest, detail, (), env, payload_hash(env))


def _pins_problem(env: CanonicalEnvelope, run: RunState | None) -> ReasonCode | None:
    if run is None:
        return ReasonCode.PINS_UNKNOWN_RUN
    if run.status == "FAILED":
        return ReasonCode.RUN_FAILED
    if env.pins() != run.pins or env.seed != run.seed:
        return ReasonCode.PINS_UNKNOWN_RUN
    return None


def assess(
    raw: bytes,
    raw_digest: Digest,
    *,
    max_record_bytes: int,
    precedence: Sequence[str],
    payloads: PayloadRegistry,
    run_of: Callable[[str], RunState | None],
    seen: Callable[[bytes], DedupeEntry | None],
) -> Decision:
    """Decide ADMIT-candidate, DUPLICATE or QUARANTINE for ``raw`` (never raises on bad input).

    Args:
        raw: the submitted bytes; ``raw_digest`` is their digest (the quarantine reference).
        run_of: run_id -> what SR declared (None: never READY).
        seen: dedupe key -> the entry of an earlier admission, if any.
    """
    parsed = parse_envelope(raw, max_bytes=max_record_bytes)
    if not isinstance(parsed, CanonicalEnvelope):
        return Quarantine(parsed.reason_code, raw_digest, parsed.detail, parsed.field_paths)
    env = parsed
    spec = payloads.spec(env.event_type, env.schema_version)
    if isinstance(spec, PayloadIssue):
        return _quarantine(env, raw_digest, spec)
    if (issue := payloads.validate(spec, env.payload)) is not None:
        return _quarantine(env, raw_digest, issue)
    if (problem := _pins_problem(env, run_of(env.run_id))) is not None:
        return _quarantine(env, raw_digest, problem, f"run {env.run_id}")
    key = dedupe_key(env.run_id, env.event_type, env.event_id)
    hash_hex = payload_hash(env)
    entry = seen(key)
    if entry is not None:
        if entry.payload_hash == hash_hex:
            return Duplicate(env, key, hash_hex, entry.eb_ref)
        return _quarantine(env, raw_digest, ReasonCode.PAYLOAD_HASH_MISMATCH,
                           f"event {env.event_id} was admitted with another payload")
    return Admit(env, key, hash_hex, derive_partition_key(env, precedence), spec.stream)

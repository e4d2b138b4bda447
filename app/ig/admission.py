"""IG's admission decision for one submission: a pure function of bytes and current state.

Order (DESIGN.md section 4): envelope → payload schema (a hand-written contract, else the one
generated from the READY run's declared schema: an imported world's event types, see
``app.rails.payloads.declared``) → pins of a READY run → event time
within the run's plausible window (``app.ig.event_time``) → dedupe on
``(run_id, event_type, event_id)`` → partition key. Publishing, the ack, the dedupe write and
the receipt happen in the agent, after this decision; an ``Admit`` is only a *candidate* until
the broker has acked it (a publish failure never becomes ADMIT).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from app.ig.event_time import EventTimeWindow
from app.ig.payload_registry import PayloadIssue, PayloadRegistry
from app.rails.dedupe_key import dedupe_key
from app.rails.digests import Digest
from app.rails.envelope import CanonicalEnvelope, parse_envelope, payload_hash
from app.rails.errors import ContractError
from app.rails.partition_key import derive_partition_key
from app.rails.payloads.declared import DeclaredContract, DeclaredIssue, validate_declared
from app.rails.pins import ContextPins
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["Admit", "Decision", "DedupeEntry", "Duplicate", "Quarantine", "RunState", "assess"]


class RunState(BaseModel):
    """What IG knows of a run (read from SR's ledger).

    ``PLANNED`` means SR's ledger holds the run but has not declared it READY or FAILED yet
    (its traffic is ``RUN_NOT_READY``, and it is looked up again: it may become READY).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pins: ContextPins
    seed: int
    status: Literal["READY", "FAILED", "PLANNED"]
    event_time_window: EventTimeWindow | None = None
    """Plausible ``ts_utc`` of a READY run's events; None: the run declares no span (unchecked)."""
    declared: SkipValidation[dict[tuple[str, str], DeclaredContract]] = Field(
        default_factory=dict, exclude=True, repr=False)
    """Payload contracts generated from the run's declared schema (an imported world's event
    types; :mod:`app.rails.payloads.declared`), by ``(event_type, schema_version)``."""


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
                detail: str = "", field_paths: tuple[str, ...] = ()) -> Quarantine:
    if isinstance(issue, PayloadIssue):
        return Quarantine(issue.reason_code, raw_digest, issue.detail, issue.field_paths, env,
                          payload_hash(env))
    return Quarantine(issue, raw_digest, detail, field_paths, env, payload_hash(env))


def _pins_problem(env: CanonicalEnvelope, run: RunState) -> ReasonCode | None:
    if run.status == "FAILED":
        return ReasonCode.RUN_FAILED
    if run.status == "PLANNED":
        return ReasonCode.RUN_NOT_READY
    if env.pins() != run.pins or env.seed != run.seed:
        return ReasonCode.PINS_UNKNOWN_RUN
    return None


_PAYLOAD_TIME_SUFFIX = "ts_utc"
"""A payload field named ``*ts_utc`` is a domain time (e.g. a label's ``effective_ts_utc``)."""


def _time_problem(env: CanonicalEnvelope, window: EventTimeWindow | None
                  ) -> tuple[str, str] | None:
    """``(field path, detail)`` of the first domain time outside the run's window, if any.

    The envelope's ``ts_utc`` drives the hot path's clocks and windows; a payload time (a label's
    effective time) drives as-of reads of labels. Both were format-checked already.
    """
    if window is None:
        return None
    times = [("ts_utc", env.ts_utc)]
    times += [(f"payload.{name}", value) for name, value in sorted(env.payload.items())
              if name.endswith(_PAYLOAD_TIME_SUFFIX) and isinstance(value, str)]
    for path, value in times:
        try:
            ts_us = ts_to_epoch_micros(value)
        except ContractError:
            return path, f"{path} is not a wire timestamp"
        if not window.contains(ts_us):
            return path, f"{path} is outside the run's event-time window {window.describe()}"
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
        run_of: run_id -> what SR declared (None: not in SR's ledger).
        seen: dedupe key -> the entry of an earlier admission, if any.
    """
    parsed = parse_envelope(raw, max_bytes=max_record_bytes)
    if not isinstance(parsed, CanonicalEnvelope):
        return Quarantine(parsed.reason_code, raw_digest, parsed.detail, parsed.field_paths)
    env = parsed
    spec = payloads.spec(env.event_type, env.schema_version)
    stream: Literal["traffic", "labels"]
    run = run_of(env.run_id)
    if isinstance(spec, PayloadIssue):
        # Not a hand-written contract: the run's world may declare it (an imported world).
        contract = _declared(run, env.event_type, env.schema_version)
        if contract is None:
            return _quarantine(env, raw_digest, spec)
        checked = validate_declared(contract, env.payload)
        if isinstance(checked, DeclaredIssue):
            return _quarantine(env, raw_digest, checked.reason_code, checked.detail,
                               checked.field_paths)
        stream = contract.stream
    else:
        if (issue := payloads.validate(spec, env.payload)) is not None:
            return _quarantine(env, raw_digest, issue)
        stream = spec.stream
    if run is None:
        return _quarantine(env, raw_digest, ReasonCode.PINS_UNKNOWN_RUN, f"run {env.run_id}")
    if (problem := _pins_problem(env, run)) is not None:
        return _quarantine(env, raw_digest, problem, f"run {env.run_id}")
    if (implausible := _time_problem(env, run.event_time_window)) is not None:
        path, detail = implausible
        return _quarantine(env, raw_digest, ReasonCode.EVENT_TIME_IMPLAUSIBLE, detail, (path,))
    key = dedupe_key(env.run_id, env.event_type, env.event_id)
    hash_hex = payload_hash(env)
    entry = seen(key)
    if entry is not None:
        if entry.payload_hash == hash_hex:
            return Duplicate(env, key, hash_hex, entry.eb_ref)
        return _quarantine(env, raw_digest, ReasonCode.PAYLOAD_HASH_MISMATCH,
                           f"event {env.event_id} was admitted with another payload")
    return Admit(env, key, hash_hex, derive_partition_key(env, precedence), stream)


def _declared(run: RunState | None, event_type: str, schema_version: str
              ) -> DeclaredContract | None:
    """The run's generated contract for this event type and version (READY runs only)."""
    if run is None or run.status != "READY":
        return None
    return run.declared.get((event_type, schema_version))

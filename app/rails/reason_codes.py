"""Stable reason codes: why a record was rejected, quarantined or a run refused.

This module owns the reason-code vocabulary. Each value is a wire contract written into receipts,
quarantine records, run ledgers and audit facts, and tests assert on codes rather than wording.
Values are never renamed or removed (old records must stay readable); add new members at the end
of their group. The value always equals the member name.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ReasonCode"]


class ReasonCode(StrEnum):
    """Why something was not (or not simply) admitted. Values are frozen: add, never rename."""

    # -- envelope and ingest (IG) --------------------------------------------------------------
    ENVELOPE_NOT_JSON = "ENVELOPE_NOT_JSON"
    """The raw bytes are not a UTF-8 JSON document."""
    ENVELOPE_INVALID = "ENVELOPE_INVALID"
    """JSON, but not a valid canonical envelope (missing, extra or malformed fields)."""
    TS_FORMAT_INVALID = "TS_FORMAT_INVALID"
    """A timestamp field is not exactly ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` or not a real instant."""
    EVENT_TYPE_UNKNOWN = "EVENT_TYPE_UNKNOWN"
    """No payload schema is registered for this ``event_type``."""
    SCHEMA_VERSION_UNKNOWN = "SCHEMA_VERSION_UNKNOWN"
    """The ``event_type`` is known but not at this ``schema_version``."""
    PAYLOAD_SCHEMA_INVALID = "PAYLOAD_SCHEMA_INVALID"
    """The payload does not match the schema chosen by ``event_type`` + ``schema_version``."""
    PINS_UNKNOWN_RUN = "PINS_UNKNOWN_RUN"
    """The pins name a run SR never created, or pins that disagree with that run's."""
    RUN_NOT_READY = "RUN_NOT_READY"
    """The run exists but SR has not declared it READY."""
    RUN_FAILED = "RUN_FAILED"
    """The run failed verification; nothing may be admitted for it."""
    DUPLICATE_EVENT = "DUPLICATE_EVENT"
    """Same dedupe key and same payload hash as an admitted event: a no-op with a receipt."""
    PAYLOAD_HASH_MISMATCH = "PAYLOAD_HASH_MISMATCH"
    """Same dedupe key, different payload hash: an anomaly, quarantined, never an overwrite."""
    RECORD_TOO_LARGE = "RECORD_TOO_LARGE"
    """The raw record exceeds the size limit."""
    PUBLISH_FAILED = "PUBLISH_FAILED"
    """The bus refused or lost the publish; the record is never reported as ADMIT."""
    AUTH_MISSING = "AUTH_MISSING"
    """An HTTP push arrived without producer credentials."""
    AUTH_INVALID = "AUTH_INVALID"
    """Producer credentials were present but not accepted."""
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    """An HTTP push batch holds more records than the policy allows."""

    # -- gates and runs (SR) -------------------------------------------------------------------
    GATE_FLAG_MISSING = "GATE_FLAG_MISSING"
    """A required gate has no ``_passed.flag``: no PASS, no read."""
    GATE_DIGEST_MISMATCH = "GATE_DIGEST_MISMATCH"
    """A recomputed gate bundle digest differs from the one its flag names."""
    PACK_NOT_SEALED = "PACK_NOT_SEALED"
    """The world pack has no ``_SEALED.json``: it may still be written."""
    OUTPUT_MISSING = "OUTPUT_MISSING"
    """An output the run needs is absent from the pack."""
    TRUTH_NOT_STREAMABLE = "TRUTH_NOT_STREAMABLE"
    """A ``truth`` output was asked to be streamed; truth never reaches the hot path."""
    RUN_CONFLICT = "RUN_CONFLICT"
    """A run request's equivalence key matches a run whose recorded evidence differs."""
    GATE_INDEX_INVALID = "GATE_INDEX_INVALID"
    """A gate's ``index.json`` or ``_passed.flag`` is unreadable or names another gate."""
    MANIFEST_DIGEST_MISMATCH = "MANIFEST_DIGEST_MISMATCH"
    """``manifest.json`` differs from the digest ``_SEALED.json`` recorded, or is unreadable."""
    LOCATOR_MISMATCH = "LOCATOR_MISMATCH"
    """The pack's manifest names another identity than its locator path claims."""
    INTERFACE_PACK_INVALID = "INTERFACE_PACK_INVALID"
    """The pack's interface pack is missing, malformed, or not the one its manifest names."""
    OUTPUT_UNKNOWN = "OUTPUT_UNKNOWN"
    """A run asked for an output the engine's catalogue does not declare."""
    ROLE_NOT_STREAMABLE = "ROLE_NOT_STREAMABLE"
    """A ``reference`` output was asked to be streamed; reference data travels by reference."""

"""An admitted label event (a record of ``fp.bus.labels.v1``) -> a :class:`LabelAssertion`.

IG validated the envelope and the ``label_event`` payload at admission, so a record that does
not parse here was not written by IG: it becomes a :class:`LabelAnomaly` (kept, never dropped,
never a crash). The observed time is the envelope's ``ts_utc`` (when the bank learned it), the
effective time the payload's ``effective_ts_utc``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from app.rails.canonical_json import canonical_dumps, sha256_hex
from app.rails.envelope import CanonicalEnvelope, EnvelopeRejection, parse_envelope
from app.rails.label import LabelAssertion
from app.rails.payloads.label_event import ImportedLabelEventV1, LabelEventV1
from app.rails.receipts import EbRef

__all__ = ["LabelAnomaly", "asserted_hash", "assertion_of"]


@dataclass(frozen=True)
class LabelAnomaly:
    """A labels-topic record that is no label event; kept with its position and why."""

    ref: EbRef
    reason: str


def asserted_hash(label_type: str, label_value: str, flow_id: str, card_id: str | None,
                  account_id: str | None, effective_ts_utc: str, observed_ts_utc: str) -> str:
    """Digest of what an assertion says (not where it came from): the collision check."""
    return sha256_hex(canonical_dumps({
        "label_type": label_type, "label_value": label_value, "flow_id": flow_id,
        "card_id": card_id, "account_id": account_id, "effective_ts_utc": effective_ts_utc,
        "observed_ts_utc": observed_ts_utc}))


def assertion_of(value: bytes, ref: EbRef) -> LabelAssertion | LabelAnomaly:
    """The assertion an admitted label event makes, or why the record is not one."""
    envelope = parse_envelope(value)
    if isinstance(envelope, EnvelopeRejection):
        return LabelAnomaly(ref, f"{envelope.reason_code}: {envelope.detail}"[:500])
    return _from_envelope(envelope, ref)


def _from_envelope(envelope: CanonicalEnvelope, ref: EbRef) -> LabelAssertion | LabelAnomaly:
    event: LabelEventV1 | ImportedLabelEventV1
    try:
        if envelope.event_type == "label_event":
            event = LabelEventV1.model_validate(envelope.payload)
            flow_id = event.flow_id
        else:
            # Any other type IG admitted to the labels topic is an imported world's label feed
            # (validated there against the world's declared schema): a label on a txn_ flow.
            event = ImportedLabelEventV1.model_validate(envelope.payload)
            flow_id = event.txn_id
    except ValidationError as exc:
        return LabelAnomaly(ref, f"{envelope.event_type} payload is no label event: "
                                 f"{exc.errors(include_input=False)[:3]}"[:500])
    return LabelAssertion(
        label_id=event.label_event_id, run_id=envelope.run_id, flow_id=flow_id,
        card_id=event.card_id, account_id=event.account_id, label_type=event.label_type,
        label_value=event.label_value, effective_ts_utc=event.effective_ts_utc,
        observed_ts_utc=envelope.ts_utc, source="label_feed",
        source_event_id=envelope.event_id, source_ref=ref,
        payload_hash=asserted_hash(event.label_type, event.label_value, flow_id,
                                   event.card_id, event.account_id, event.effective_ts_utc,
                                   envelope.ts_utc))

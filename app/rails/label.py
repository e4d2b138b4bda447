"""The Label Store's contract: one label assertion on a flow, bitemporal and append-only.

A label is an *assertion about a flow* (the authorisation and its follow-ups, ``flow_id`` within
a run): that it was fraud, abuse or legitimate. It carries two times, and every read names both:

- ``effective_ts_utc``: when it was true (for a bank label, the authorisation time);
- ``observed_ts_utc``: when the platform learned it (a label event's envelope ``ts_utc``; a case
  verdict's time). "As known at T" sees only assertions observed at or before T.

Assertions are never edited. A later assertion of the same ``label_type`` on the same flow
supersedes the earlier one as of its own observed time (an analyst clearing an earlier detection,
a chargeback the merchant wins, a case verdict that overturns a dispute); the earlier one stays in
the timeline, and an as-of read before the revision still returns it (``app.labels.timeline``).

``label_id`` is the assertion's identity: the label event's ``label_event_id`` for the bank's
feed. ``payload_hash`` is the digest of what was asserted; the same id with another hash is a
collision, kept as an anomaly and never applied.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from app.rails.ids import Hex32, Hex64
from app.rails.payloads.fields import (
    AccountId,
    CardId,
    ImportedEntityId,
    SubjectFlowId,
)
from app.rails.receipts import EbRef
from app.rails.timefmt import TsUtc

__all__ = ["LabelAssertion", "LabelSource", "LabelType", "LabelValue"]

LabelType = Literal["post_auth_detection", "customer_dispute", "chargeback", "case_verdict"]
"""The bank's three label types, and an investigator's verdict from case management."""
LabelValue = Literal["fraud", "abuse", "legit", "inconclusive"]
"""``inconclusive`` only from a case verdict: the bank's feed says fraud, abuse or legit."""
LabelSource = Literal["label_feed", "case"]

_LabelId = Annotated[str, Strict(), Field(min_length=1, max_length=128,
                                          pattern=r"^[A-Za-z0-9_.:-]+$")]


class LabelAssertion(BaseModel):
    """One assertion in a flow's label timeline (see the module doc for the two times)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_type: Literal["label_assertion"] = "label_assertion"
    label_id: _LabelId
    run_id: Hex32
    flow_id: SubjectFlowId = Field(
        description="flow_<12 digits> (a generated world) or txn_<12 digits> (an imported one).")
    card_id: ImportedEntityId | None = Field(
        default=None, description="A generated world's card_<digits> (required); an import's "
                                  "id as carried, or null where the import maps no card.")
    account_id: ImportedEntityId | None = Field(
        default=None, description="As card_id: acct_<digits> for a generated world, the "
                                  "import's id or null.")
    label_type: LabelType
    label_value: LabelValue
    effective_ts_utc: TsUtc = Field(description="When it was true.")
    observed_ts_utc: TsUtc = Field(description="When the platform learned it.")
    source: LabelSource
    source_event_id: Hex64 | None = Field(
        default=None, description="The admitted label event's envelope event_id (label_feed).")
    source_ref: EbRef | None = Field(
        default=None, description="Where the label event sits on fp.bus.labels.v1 (label_feed).")
    payload_hash: Hex64 = Field(description="Digest of what was asserted (collision check).")

    @model_validator(mode="after")
    def _ids_follow_the_world(self) -> LabelAssertion:
        """A generated world's flow names its card and account by the catalogue's ids; an
        imported transaction (``txn_``) names them as its table does, or not at all."""
        if self.flow_id.startswith("flow_"):
            try:
                _GENERATED_IDS.validate_python((self.card_id, self.account_id))
            except ValidationError as exc:
                raise ValueError(f"a flow_ label needs card_<digits> and acct_<digits> ids: "
                                 f"{exc.errors(include_input=False)}") from None
        return self


_GENERATED_IDS: TypeAdapter[tuple[CardId, AccountId]] = TypeAdapter(tuple[CardId, AccountId])

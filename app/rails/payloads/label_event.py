"""The ``label_event`` payload contract: the bank's view of a flow, streamed to the Label Store.

Mirrors the engine catalogue's ``label_event`` output (role ``label_feed``), minus its time column
``observed_ts_utc``: the envelope's ``ts_utc`` of a label event is when the bank *learned* the
label, and ``effective_ts_utc`` in the payload is when it was true. A label event is late,
incomplete and sometimes wrong; it is never ground truth, and no truth column may ride along
(extra fields are refused).
"""

from __future__ import annotations

from pydantic import Field

from app.rails.payloads.fields import (
    AccountId,
    CardId,
    FlowId,
    ImportedEntityId,
    ImportedLabelEventId,
    LabelEventId,
    LabelType,
    LabelValue,
    PayloadModel,
    TxnId,
)
from app.rails.timefmt import TsUtc

__all__ = ["ImportedLabelEventV1", "LabelEventV1"]


class LabelEventV1(PayloadModel):
    """A bank label on a flow: post-auth detection, customer dispute or chargeback.

    The envelope's ``ts_utc`` is the observed time; ``effective_ts_utc`` is when the label became
    true (the authorisation time). As-of reads use the observed time.
    """

    label_event_id: LabelEventId = Field(description="lbl_<flow digits>_<kind 0-3>.")
    flow_id: FlowId
    card_id: CardId
    account_id: AccountId
    label_type: LabelType
    label_value: LabelValue = Field(description="The bank's assessment, not ground truth.")
    effective_ts_utc: TsUtc = Field(description="When it was true (the authorisation time).")


class ImportedLabelEventV1(PayloadModel):
    """The label feed of an imported world (``fp world import``): a bank label on a transaction.

    IG admits it against the contract generated from the world's declared schema
    (``app.rails.payloads.declared``); this model is the Label Store's reading of that feed's
    columns, which every import declares alike. Its flow is the transaction (``txn_id``), and the
    card and account ids are the table's own (null where the import maps none).
    """

    label_event_id: ImportedLabelEventId = Field(description="lbl_<txn digits>.")
    txn_id: TxnId
    card_id: ImportedEntityId | None
    account_id: ImportedEntityId | None
    label_type: LabelType
    label_value: LabelValue = Field(description="The bank's assessment, not ground truth.")
    effective_ts_utc: TsUtc = Field(description="When it was true (the transaction time).")

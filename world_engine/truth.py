"""Ground truth vocabulary: what each flow really was (legit, fraud or abuse) and why.

This module owns the truth codes the generators stamp on every authorisation flow and their wire
strings in the ``flow_truth`` output. Truth is never streamed and never a feature input: it exists
to evaluate decisions and to measure how noisy and late the bank's own labels (``label_event``)
are. No column named here may appear in a ``business_traffic`` or ``label_feed`` output.
"""

from __future__ import annotations

__all__ = [
    "ABUSE",
    "FRAUD",
    "LEGIT",
    "SUBTYPES",
    "SUBTYPE_CARD_TESTING",
    "SUBTYPE_CASHOUT",
    "SUBTYPE_COLLUSION",
    "SUBTYPE_MULE",
    "SUBTYPE_NONE",
    "SUBTYPE_REFUND_ABUSE",
    "SUBTYPE_TAKEOVER",
    "TRUTH_COLUMNS",
    "TRUTH_LABELS",
]

TRUTH_LABELS = ("legit", "fraud", "abuse")
LEGIT, FRAUD, ABUSE = 0, 1, 2

SUBTYPES = (
    "none",
    "card_testing",
    "card_testing_cashout",
    "account_takeover",
    "refund_abuse",
    "merchant_collusion",
    "mule_activity",
)
"""Truth subtypes; ``none`` for legitimate flows."""
(
    SUBTYPE_NONE,
    SUBTYPE_CARD_TESTING,
    SUBTYPE_CASHOUT,
    SUBTYPE_TAKEOVER,
    SUBTYPE_REFUND_ABUSE,
    SUBTYPE_COLLUSION,
    SUBTYPE_MULE,
) = range(len(SUBTYPES))

TRUTH_COLUMNS = frozenset(
    {"is_fraud_or_abuse", "label", "subtype", "campaign_id", "issuer_approved"}
)
"""Columns that only the ``truth`` role may carry."""

"""The bank's view of fraud: label events that are late, incomplete and sometimes wrong.

This module owns the ``label_feed``. For each authorisation flow it decides which label events
the bank will observe and when; ``effective_ts_utc`` is the authorisation time (when it became
true) and ``observed_ts_utc`` when the bank learned it. Documented delay ranges (observed minus
effective), which the tests hold the generator to:

===========================  =================  ===============================================
label_type                   delay range        who and why
===========================  =================  ===============================================
post_auth_detection          1 min - 30 days    the bank's rules after the fact: fraud within
                                                minutes to 72 h (median 3 h); refund abuse
                                                once refunds pile up (2-30 days); 0.15 % false
                                                positives on legitimate flows
post_auth_detection (legit)  1 h - 8 days       an analyst clears an earlier detection (60 % of
                                                false positives, 5 % of true ones: noise)
customer_dispute             12 h - 60 days     the cardholder disputes (median 8 days); never
                                                for mule or refund-abuse flows (complicit
                                                customers); 0.08 % friendly fraud on legit
                                                cleared flows
chargeback                   7 days - 90 days   80 % of disputed cleared flows (50 % friendly)
===========================  =================  ===============================================

Detection probability by truth subtype: card testing 45 %, cash-out 35 %, takeover 40 %, refund
abuse 30 % (labelled ``abuse``), collusion 20 %, mule 30 %. Many fraud flows are never labelled.
``label_event_id`` is ``lbl_<flow number>_<kind>`` (kind 0 detection, 1 review, 2 dispute,
3 chargeback), unique and stable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from world_engine.arrivals import DAY_US, HOUR_US
from world_engine.flows import FlowBatch
from world_engine.traffic import FollowUps
from world_engine.truth import LEGIT, SUBTYPE_REFUND_ABUSE

__all__ = [
    "DELAY_RANGES_US",
    "LABEL_KINDS",
    "LABEL_TYPES",
    "LABEL_VALUES",
    "LabelEvents",
    "label_events",
]

LABEL_TYPES = ("post_auth_detection", "customer_dispute", "chargeback")
LABEL_VALUES = ("fraud", "abuse", "legit")
LABEL_KINDS = ("detection", "review", "dispute", "chargeback")
"""Kinds of label event; the kind is the suffix of ``label_event_id``."""
_KIND_TYPE = np.array([0, 0, 1, 2], dtype=np.int8)
_MINUTE_US = 60_000_000
DELAY_RANGES_US: dict[str, tuple[int, int]] = {
    "detection": (_MINUTE_US, 30 * DAY_US),
    "review": (HOUR_US, 8 * DAY_US),
    "dispute": (12 * HOUR_US, 60 * DAY_US),
    "chargeback": (7 * DAY_US, 90 * DAY_US),
}
"""Observed minus effective time, per label kind (inclusive bounds)."""

# Per truth subtype, in truth.SUBTYPES order (none, card_testing, cashout, takeover, refund
# abuse, collusion, mule).
_P_DETECT = np.array([0.0015, 0.45, 0.35, 0.40, 0.30, 0.20, 0.30])
_P_DISPUTE = np.array([0.0008, 0.10, 0.75, 0.85, 0.0, 0.60, 0.0])


@dataclass(frozen=True, slots=True)
class LabelEvents:
    """Label events of a batch: the flow row each belongs to, its kind, value and times."""

    rows: np.ndarray
    kind: np.ndarray
    label_type: np.ndarray
    label_value: np.ndarray
    effective_us: np.ndarray
    observed_us: np.ndarray


def _delay(
    rng: np.random.Generator, n: int, median_us: float, sigma: float, kind: str
) -> np.ndarray:
    low, high = DELAY_RANGES_US[kind]
    return np.clip(median_us * np.exp(sigma * rng.standard_normal(n)), low, high).astype(np.int64)


def label_events(batch: FlowBatch, outcome: FollowUps, rng: np.random.Generator) -> LabelEvents:
    """The bank's label events for every flow of ``batch`` (given what the issuer did)."""
    n = len(batch)
    legit = batch.label == LEGIT
    abuse = batch.subtype == SUBTYPE_REFUND_ABUSE
    cleared = outcome.cleared

    detected = rng.random(n) < _P_DETECT[batch.subtype]
    detect_delay = np.where(
        abuse,
        _delay(rng, n, 10 * DAY_US, 0.5, "detection"),
        _delay(rng, n, 3 * HOUR_US, 1.3, "detection"),
    )
    detect_delay = np.where(abuse, np.maximum(detect_delay, 2 * DAY_US), detect_delay)
    detect_value = np.where(abuse, 1, 0)

    reviewed = detected & (rng.random(n) < np.where(legit, 0.6, 0.05))
    review_delay = np.minimum(
        detect_delay + _delay(rng, n, 30 * HOUR_US, 0.8, "review"), DELAY_RANGES_US["review"][1]
    )
    reviewed &= review_delay > detect_delay

    disputed = outcome.approved & (rng.random(n) < _P_DISPUTE[batch.subtype]) & (cleared | ~legit)
    dispute_delay = _delay(rng, n, 8 * DAY_US, 0.7, "dispute")
    charged = disputed & cleared & (rng.random(n) < np.where(legit, 0.5, 0.8))
    chargeback_delay = np.clip(
        dispute_delay + _delay(rng, n, 12 * DAY_US, 0.5, "chargeback"),
        *DELAY_RANGES_US["chargeback"],
    )

    masks = (detected, reviewed, disputed, charged)
    delays = (detect_delay, review_delay, dispute_delay, chargeback_delay)
    values = (detect_value, np.full(n, 2), np.zeros(n), np.zeros(n))
    rows = np.concatenate([np.flatnonzero(m) for m in masks])
    kind = np.concatenate([np.full(int(m.sum()), k, dtype=np.int8) for k, m in enumerate(masks)])
    effective = batch.ts_us[rows]
    return LabelEvents(
        rows=rows,
        kind=kind,
        label_type=_KIND_TYPE[kind],
        label_value=np.concatenate([v[m] for v, m in zip(values, masks, strict=True)]).astype(
            np.int8
        ),
        effective_us=effective,
        observed_us=effective + np.concatenate([d[m] for d, m in zip(delays, masks, strict=True)]),
    )

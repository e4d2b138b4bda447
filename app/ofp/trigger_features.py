"""Features of the trigger itself (family ``txn``, declared in ``app.ofp.registry``): what the
authorisation says.

Pure functions of the trigger's payload and ``ts_utc``; no state, no history. They sit beside the
windowed aggregates so a scorecard can combine "what is asked" with "what came before".
"""

from __future__ import annotations

from app.ofp.registry import REGISTRY, TXN_FAMILY
from app.rails.decision import FeatureValue
from app.rails.payloads import AuthRequestV1

__all__ = ["TXN_FEATURE_NAMES", "trigger_features"]

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
ROUND_STEP_MINOR = 5_000
"""Round amounts are multiples of 50.00 (in minor units, every world currency has 2 decimals)."""
ROUND_MIN_MINOR = 10_000
TINY_MAX_MINOR = 300

TXN_FEATURE_NAMES: tuple[str, ...] = REGISTRY.family_names(TXN_FAMILY)


def trigger_features(auth: AuthRequestV1, ts_us: int) -> dict[str, FeatureValue]:
    """The ``txn.*`` features of one authorisation request at event time ``ts_us``."""
    amount = auth.amount_minor
    hour = (ts_us % _DAY_US) // _HOUR_US
    return {
        "txn.amount_minor": amount,
        "txn.is_round_amount": amount >= ROUND_MIN_MINOR and amount % ROUND_STEP_MINOR == 0,
        "txn.is_tiny_amount": amount <= TINY_MAX_MINOR,
        "txn.card_present": auth.channel == "card_present",
        "txn.entry_keyed": auth.entry_mode == "keyed",
        "txn.entry_magstripe": auth.entry_mode == "magstripe",
        "txn.mcc": int(auth.mcc),
        "txn.hour_utc": hour,
        "txn.is_night_utc": hour < 6,
    }

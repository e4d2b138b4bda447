"""Features of the trigger itself (family ``txn``, declared in ``app.ofp.registry``): what the
authorisation says.

Pure functions of the trigger's payload and ``ts_utc``; no state, no history. They sit beside the
windowed aggregates so a scorecard can combine "what is asked" with "what came before".
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pydantic import BaseModel

from app.ofp.registry import REGISTRY, TXN_FAMILY, FeatureDecl, FeatureRegistry
from app.rails.decision import FeatureSetRef, FeatureValue
from app.rails.payloads import AuthRequestV1

__all__ = ["TXN_FEATURE_NAMES", "declared_trigger_features", "declared_txn_registry",
           "trigger_features"]

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
ROUND_STEP_MINOR = 5_000
"""Round amounts are multiples of 50.00 (in minor units, every world currency has 2 decimals)."""
ROUND_MIN_MINOR = 10_000
TINY_MAX_MINOR = 300

TXN_FEATURE_NAMES: tuple[str, ...] = REGISTRY.family_names(TXN_FAMILY)


def _amount_and_time(amount: int, ts_us: int) -> dict[str, FeatureValue]:
    hour = (ts_us % _DAY_US) // _HOUR_US
    return {
        "txn.amount_minor": amount,
        "txn.is_round_amount": amount >= ROUND_MIN_MINOR and amount % ROUND_STEP_MINOR == 0,
        "txn.is_tiny_amount": amount <= TINY_MAX_MINOR,
        "txn.hour_utc": hour,
        "txn.is_night_utc": hour < 6,
    }


_AUTH_ONLY = ("txn.card_present", "txn.entry_keyed", "txn.entry_magstripe", "txn.mcc")
"""``txn`` features an imported transaction has no column for: None (no such data)."""


def declared_trigger_features(payload: BaseModel, features: Iterable[str], ts_us: int
                              ) -> dict[str, FeatureValue]:
    """The ``txn.*`` features of an imported transaction (a declared-contract trigger).

    The amount and time features are computed as for an authorisation, the authorisation-only
    ones are None, and each declared feature column ``name`` is ``txn.<name>`` as carried.
    """
    values = _amount_and_time(payload.amount_minor, ts_us)  # type: ignore[attr-defined]  # every import declares amount_minor
    values.update(dict.fromkeys(_AUTH_ONLY))
    for name in features:
        values[f"txn.{name}"] = getattr(payload, name)
    return values


@lru_cache(maxsize=64)
def declared_txn_registry(features: tuple[tuple[str, str], ...]
                          ) -> tuple[FeatureRegistry, FeatureSetRef, tuple[str, ...]]:
    """The feature registry with the ``txn`` family extended by an import's declared features
    (``features``: ``(column, dtype)`` pairs), its ``txn`` feature-set ref, and the columns
    used. A column whose ``txn.<name>`` the registry already declares is left out (the platform's
    own definition wins)."""
    taken = set(REGISTRY.names)
    decls, used = [], []
    for name, dtype in features:
        feature = f"txn.{name}"
        if feature in taken:
            continue
        taken.add(feature)
        used.append(name)
        decls.append(FeatureDecl(name=feature, family=TXN_FAMILY, dtype=dtype,  # type: ignore[arg-type]  # dtype is int|float|bool by construction (app.rails.payloads.declared)
                                 description=f"Declared feature column {name!r} of the "
                                             "imported world's transaction."))
    registry = REGISTRY.extended(decls=decls)
    return registry, registry.feature_set(TXN_FAMILY), tuple(used)


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

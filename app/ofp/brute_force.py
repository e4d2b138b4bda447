"""The obviously-correct reference for ``ofp_core``: filter the whole history for every value.

Slow on purpose (O(history) per feature) and written straight from the definitions, with no
shared state or incremental tricks, so tests and offline parity checks can compare the online
``FeatureState`` against it. It shares only the exact formulas of ``app.ofp.windows``.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.ofp.feature_set import DISTINCT_FIELDS, FEATURE_NAMES, FeatureValue
from app.ofp.txn import ENTITY_KINDS, Txn, entity_id
from app.ofp.windows import (
    RETENTION_US,
    WINDOWS,
    amount_to_mean,
    amount_zscore,
    in_window,
    seconds_between,
)

__all__ = ["brute_force_features"]


def brute_force_features(history: Sequence[Txn], trigger: Txn) -> dict[str, FeatureValue]:
    """Every ``ofp_core`` feature of ``trigger`` over ``history``; later events are ignored."""
    t_us = trigger.ts_us
    out: dict[str, FeatureValue] = {}
    for kind in ENTITY_KINDS:
        eid = entity_id(trigger, kind)
        mine = [t for t in history if eid is not None and entity_id(t, kind) == eid]
        for window, w_us in WINDOWS.items():
            win = [t for t in mine if in_window(t.ts_us, t_us, w_us)]
            values: dict[str, FeatureValue] = {
                "count": len(win),
                "amount_sum": sum(t.amount_minor for t in win),
                "amount_max": max((t.amount_minor for t in win), default=0),
                "declines": sum(1 for t in win if t.declined),
                "step_ups": sum(1 for t in win if t.stepped_up),
            }
            for field, stem in DISTINCT_FIELDS[kind]:
                values[stem] = len({getattr(t, field) for t in win} - {None})
            for stem, value in values.items():
                out[f"{kind}.{stem}_{window}"] = None if eid is None else value
        earlier = [t.ts_us for t in mine if in_window(t.ts_us, t_us, RETENTION_US)]
        out[f"{kind}.time_since_prev_s"] = seconds_between(t_us, max(earlier)) if earlier else None
    week = [
        t.amount_minor
        for t in history
        if t.card_id == trigger.card_id and in_window(t.ts_us, t_us, WINDOWS["7d"])
    ]
    amount = trigger.amount_minor
    out["card.amount_to_mean_7d"] = amount_to_mean(amount, len(week), sum(week))
    out["card.amount_zscore_7d"] = amount_zscore(
        amount, len(week), sum(week), sum(a * a for a in week)
    )
    return {name: out[name] for name in FEATURE_NAMES}

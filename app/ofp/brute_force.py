"""The obviously-correct reference for the online fold: evaluate each definition literally.

Slow on purpose (O(history) per feature) and generic over the feature registry: each
``FeatureDef`` is filtered and aggregated straight from its fields, with no shared state or
incremental tricks, so tests and offline parity checks can compare the online ``FeatureState``
against it. It shares only the exact formulas of ``app.ofp.windows``.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.ofp.registry import REGISTRY, FeatureDef, FeatureRegistry
from app.ofp.txn import Txn, entity_id
from app.ofp.windows import amount_to_mean, amount_zscore, in_window, seconds_between
from app.rails.decision import FeatureValue

__all__ = ["brute_force_features", "brute_force_value"]


def brute_force_value(d: FeatureDef, history: Sequence[Txn], trigger: Txn) -> FeatureValue:
    """One feature of ``trigger`` over ``history``; later events are ignored."""
    eid = entity_id(trigger, d.entity_kind)
    if eid is None:
        return None
    t_us, w_us = trigger.ts_us, d.window_us
    win = [t for t in history if t.event_type in d.sources
           and entity_id(t, d.entity_kind) == eid and in_window(t.ts_us, t_us, w_us)]
    amounts = [t.amount_minor for t in win]
    match d.aggregate:
        case "count":
            return len(win)
        case "amount_sum":
            return sum(amounts)
        case "amount_max":
            return max(amounts, default=0)
        case "distinct":
            assert d.of is not None
            return len({entity_id(t, d.of) for t in win} - {None})
        case "time_since_prev":
            return seconds_between(t_us, max(t.ts_us for t in win)) if win else None
        case "amount_to_mean":
            return amount_to_mean(trigger.amount_minor, len(win), sum(amounts))
        case "amount_zscore":
            return amount_zscore(trigger.amount_minor, len(win), sum(amounts),
                                 sum(a * a for a in amounts))
    raise AssertionError(d.aggregate)


def brute_force_features(history: Sequence[Txn], trigger: Txn,
                         registry: FeatureRegistry = REGISTRY) -> dict[str, FeatureValue]:
    """Every windowed feature of ``registry`` for ``trigger`` over ``history``, by name."""
    return {d.name: brute_force_value(d, history, trigger) for d in registry.defs}

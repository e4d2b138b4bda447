"""The ``ofp_core`` feature set: its name, version, and every feature name it emits.

A model bundle declares ``FEATURE_SET`` and may check ``FEATURE_NAMES``; a snapshot always holds
exactly these keys (a kind the trigger lacks gives ``None`` values, never missing keys), so the key
set depends on the feature set only, never on the data. Changing any name or meaning here means a
new ``FEATURE_SET_VERSION``.
"""

from __future__ import annotations

from typing import Final

from app.ofp.txn import ENTITY_KINDS, EntityKind
from app.ofp.windows import WINDOW_NAMES, WINDOWS
from app.rails.decision import FeatureValue

__all__ = [
    "CARD_EXTRA_FEATURES",
    "DISTINCT_FIELDS",
    "FEATURE_NAMES",
    "FEATURE_SET",
    "FEATURE_SET_NAME",
    "FEATURE_SET_VERSION",
    "WINDOW_AGGREGATES",
    "FeatureValue",
    "kind_feature_names",
]

FEATURE_SET_NAME: Final = "ofp_core"
FEATURE_SET_VERSION: Final = 1
# (name, version), the shape a snapshot's and a bundle's ``FeatureSetRef`` is built from.
FEATURE_SET: Final[tuple[str, int]] = (FEATURE_SET_NAME, FEATURE_SET_VERSION)

# Per-window aggregates every kind has, in layout order.
WINDOW_AGGREGATES: Final[tuple[str, ...]] = (
    "count",
    "amount_sum",
    "amount_max",
    "declines",
    "step_ups",
)

# Kind -> ((Txn field, feature stem), ...) counted as distinct values per window; None never counts.
DISTINCT_FIELDS: Final[dict[EntityKind, tuple[tuple[str, str], ...]]] = {
    "card": (("merchant_id", "distinct_merchants"), ("device_id", "distinct_devices")),
    "account": (
        ("card_id", "distinct_cards"),
        ("merchant_id", "distinct_merchants"),
        ("device_id", "distinct_devices"),
    ),
    "customer": (
        ("card_id", "distinct_cards"),
        ("merchant_id", "distinct_merchants"),
        ("device_id", "distinct_devices"),
    ),
    "device": (("card_id", "distinct_cards"), ("merchant_id", "distinct_merchants")),
    "ip": (("card_id", "distinct_cards"), ("merchant_id", "distinct_merchants")),
    "merchant": (("card_id", "distinct_cards"),),
}

# Card-only features against the card's 7d window, appended after time_since_prev_s.
CARD_EXTRA_FEATURES: Final[tuple[str, ...]] = ("amount_to_mean_7d", "amount_zscore_7d")


def kind_feature_names(kind: EntityKind) -> tuple[str, ...]:
    """The names of ``kind``'s features in layout order (the order the state emits values in).

    Layout: for each window, longest first (so each window's start bounds the next search), the
    ``WINDOW_AGGREGATES`` then the kind's distinct counts; then ``time_since_prev_s``; then, for
    cards, ``CARD_EXTRA_FEATURES``. The layout is internal: snapshots are keyed by name.
    """
    names: list[str] = []
    for window in sorted(WINDOW_NAMES, key=WINDOWS.__getitem__, reverse=True):
        stems = WINDOW_AGGREGATES + tuple(stem for _, stem in DISTINCT_FIELDS[kind])
        names.extend(f"{kind}.{stem}_{window}" for stem in stems)
    names.append(f"{kind}.time_since_prev_s")
    if kind == "card":
        names.extend(f"card.{name}" for name in CARD_EXTRA_FEATURES)
    return tuple(names)


FEATURE_NAMES: Final[tuple[str, ...]] = tuple(
    sorted(name for kind in ENTITY_KINDS for name in kind_feature_names(kind))
)

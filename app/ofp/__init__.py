"""Online Feature Plane: pure, deterministic windowed features per entity (no faust, no I/O).

The same library serves OFP online and the offline rebuild (OFS), so parity comes from one code
path. Public surface: ``Txn`` in, ``FeatureState`` holds a shard, ``FEATURE_SET`` /
``FEATURE_NAMES`` declare what comes out, ``brute_force_features`` is the reference.
"""

from __future__ import annotations

from app.ofp.brute_force import brute_force_features
from app.ofp.feature_set import (
    FEATURE_NAMES,
    FEATURE_SET,
    FEATURE_SET_NAME,
    FEATURE_SET_VERSION,
    FeatureValue,
)
from app.ofp.feature_state import DEFAULT_ALLOWED_LATENESS_US, FeatureState
from app.ofp.txn import ENTITY_KINDS, EntityKind, Txn
from app.ofp.windows import RETENTION_US, WINDOWS

__all__ = [
    "DEFAULT_ALLOWED_LATENESS_US",
    "ENTITY_KINDS",
    "FEATURE_NAMES",
    "FEATURE_SET",
    "FEATURE_SET_NAME",
    "FEATURE_SET_VERSION",
    "RETENTION_US",
    "WINDOWS",
    "EntityKind",
    "FeatureState",
    "FeatureValue",
    "Txn",
    "brute_force_features",
]

"""Online Feature Plane: pure, deterministic windowed features per entity (no faust, no I/O).

The same library serves OFP online and the offline rebuild (OFS), so parity comes from one code
path. Public surface: ``REGISTRY`` declares every feature once (``app.ofp.registry``); ``Txn``
(built by ``txn_of`` from any event type that can feed windows) goes in; ``FeatureState`` holds
a shard; ``brute_force_features`` is the reference.
"""

from __future__ import annotations

from app.ofp.brute_force import brute_force_features
from app.ofp.entities import ENTITY_ID_FIELDS, ENTITY_KINDS, EntityKind
from app.ofp.feature_state import DEFAULT_ALLOWED_LATENESS_US, FeatureState
from app.ofp.registry import (
    GRAPH_FAMILY,
    OFP_FAMILY,
    REGISTRY,
    TXN_FAMILY,
    FeatureDecl,
    FeatureDef,
    FeatureRegistry,
    windowed,
)
from app.ofp.txn import FEEDABLE_EVENT_TYPES, Txn, txn_of
from app.ofp.windows import WINDOWS
from app.rails.decision import FeatureValue

__all__ = [
    "DEFAULT_ALLOWED_LATENESS_US",
    "ENTITY_ID_FIELDS",
    "ENTITY_KINDS",
    "FEATURE_NAMES",
    "FEEDABLE_EVENT_TYPES",
    "GRAPH_FAMILY",
    "OFP_FAMILY",
    "REGISTRY",
    "RETENTION_US",
    "TXN_FAMILY",
    "WINDOWS",
    "EntityKind",
    "FeatureDecl",
    "FeatureDef",
    "FeatureRegistry",
    "FeatureState",
    "FeatureValue",
    "Txn",
    "brute_force_features",
    "txn_of",
    "windowed",
]

FEATURE_NAMES: tuple[str, ...] = REGISTRY.family_names(OFP_FAMILY)
"""The windowed features' names, sorted: the exact key set of ``FeatureState.features``."""
RETENTION_US: int = REGISTRY.retention_us
"""The longest look-back any windowed feature needs."""

"""Which bundle the hot path scores with: the Registry's ACTIVE one, if the snapshot can feed it.

The hot path provides three feature sets (OFP's windows, IEG's link features, the trigger's own
fields); a bundle that needs anything else is incompatible and the policy's fallback applies. A
registry that cannot be read counts as "no ACTIVE bundle": DF still decides (fallback or
guardrails only, with reason codes) and DL sees ``registry_resolved=False``.
"""

from __future__ import annotations

from app.df.policy import DecisionPolicy
from app.ieg import GRAPH_FEATURE_SET
from app.ofp import FEATURE_SET as OFP_FEATURE_SET
from app.ofp.trigger_features import TXN_FEATURE_SET
from app.rails.decision import FeatureSetRef
from app.rails.errors import FraudPlatformError
from app.registry.resolver import Resolution, bootstrap_pair, resolve
from app.registry.store import Activation, RegistryStore

__all__ = ["PROVIDED_FEATURE_SETS", "resolve_active", "resolve_active_with_activation"]

PROVIDED_FEATURE_SETS: frozenset[FeatureSetRef] = frozenset(
    FeatureSetRef(name=name, version=version)
    for name, version in (OFP_FEATURE_SET, GRAPH_FEATURE_SET, TXN_FEATURE_SET))


async def resolve_active(registry: RegistryStore, policy: DecisionPolicy) -> Resolution:
    """Resolve the ACTIVE bundle of ``policy.scope`` against what the hot path provides."""
    resolution, _ = await resolve_active_with_activation(registry, policy)
    return resolution


async def resolve_active_with_activation(registry: RegistryStore, policy: DecisionPolicy
                                         ) -> tuple[Resolution, Activation | None]:
    """Like :func:`resolve_active`, plus the activation that made the bundle ACTIVE (if any)."""
    activation = None
    try:
        ref, bundle, activation = await registry.active_bundle(policy.scope)
        active = (ref, bundle)
    except FraudPlatformError:  # includes object-store errors: unreadable = unresolved
        active = None
    return resolve(active, PROVIDED_FEATURE_SETS, fallback=policy.on_unusable_bundle,
                   bootstrap=bootstrap_pair()), activation

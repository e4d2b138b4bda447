"""Which bundle the hot path scores with: the Registry's ACTIVE one, if the snapshot can feed it.

The hot path provides every feature of the feature registry (``app.ofp.registry``: OFP's windows,
IEG's link features, the trigger's own fields); a bundle that reads any other feature is refused
(``BUNDLE_INCOMPATIBLE`` + ``FEATURE_MISSING``, the names in the resolution) and the policy's
fallback applies. Growing the registry never breaks an ACTIVE bundle. A
registry that cannot be read counts as "no ACTIVE bundle": DF still decides (fallback or
guardrails only, with reason codes) and DL sees ``registry_resolved=False``.
"""

from __future__ import annotations

from app.df.policy import DecisionPolicy
from app.ofp import REGISTRY
from app.rails.errors import FraudPlatformError
from app.registry.resolver import Resolution, bootstrap_pair, resolve
from app.registry.store import Activation, RegistryStore

__all__ = ["PROVIDED_FEATURES", "resolve_active", "resolve_active_with_activation"]

PROVIDED_FEATURES: frozenset[str] = REGISTRY.names
"""Every feature a hot-path snapshot can carry (graph.* only outside DEGRADED)."""


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
    return resolve(active, PROVIDED_FEATURES, fallback=policy.on_unusable_bundle,
                   bootstrap=bootstrap_pair()), activation

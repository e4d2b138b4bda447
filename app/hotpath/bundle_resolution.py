"""Which bundle the hot path scores with: the Registry's ACTIVE one, if the snapshot can feed it.

The hot path provides every feature of the feature registry (``app.ofp.registry``: OFP's windows,
IEG's link features, the trigger's own fields); a bundle that reads any other feature is refused
(``BUNDLE_INCOMPATIBLE`` + ``FEATURE_MISSING``, the names in the resolution) and the policy's
fallback applies. Growing the registry never breaks an ACTIVE bundle. A
registry that cannot be read counts as "no ACTIVE bundle": DF still decides (fallback or
guardrails only, with reason codes) and DL sees ``registry_resolved=False``.

The scope's SHADOW bundle is resolved the same way (:func:`resolve_scope`), without fallback: a
shadow that cannot be read, reads a feature the registry lacks or whose model cannot be loaded
is absent, and decisions carry ``SHADOW_UNAVAILABLE``. A model bundle's text is read from the
Registry only when its model is not parsed in this process yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.df.policy import DecisionPolicy
from app.ofp import REGISTRY
from app.rails.bundle import ModelBundle, ScorecardBundle, bundle_ref
from app.rails.errors import FraudPlatformError
from app.registry.resolver import Resolution, bootstrap_pair, resolve, resolve_shadow
from app.registry.store import Activation, RegistryStore, ShadowChange
from app.scoring import booster_cached

__all__ = [
    "PROVIDED_FEATURES",
    "ScopeResolution",
    "resolve_active",
    "resolve_active_with_activation",
    "resolve_scope",
]

PROVIDED_FEATURES: frozenset[str] = REGISTRY.names
"""Every feature a hot-path snapshot can carry (graph.* only outside DEGRADED)."""


async def resolve_active(registry: RegistryStore, policy: DecisionPolicy) -> Resolution:
    """Resolve the ACTIVE bundle of ``policy.scope`` against what the hot path provides."""
    resolution, _ = await resolve_active_with_activation(registry, policy)
    return resolution


async def resolve_active_with_activation(registry: RegistryStore, policy: DecisionPolicy
                                         ) -> tuple[Resolution, Activation | None]:
    """Like :func:`resolve_active`, plus the activation that made the bundle ACTIVE (if any)."""
    scope = await resolve_scope(registry, policy)
    return scope.resolution, scope.activation


@dataclass(frozen=True, slots=True)
class ScopeResolution:
    """What a worker resolved for its scope, and the registry entries behind it (to announce)."""

    resolution: Resolution
    activation: Activation | None
    shadow_change: ShadowChange | None


async def _model_text(registry: RegistryStore, bundle: ScorecardBundle | ModelBundle
                      ) -> bytes | None:
    if isinstance(bundle, ModelBundle) and not booster_cached(bundle.model_digest):
        return await registry.get_model(bundle.model_digest)
    return None


async def resolve_scope(registry: RegistryStore, policy: DecisionPolicy) -> ScopeResolution:
    """Resolve the ACTIVE and the SHADOW bundle of ``policy.scope`` (see the module docstring)."""
    activation = None
    model_text = None
    try:
        ref, bundle, activation = await registry.active_bundle(policy.scope)
        model_text = await _model_text(registry, bundle)
        active = (ref, bundle)
    except FraudPlatformError:  # includes object-store errors: unreadable = unresolved
        active = None
    change = None
    shadow_text = None
    unreadable = False
    try:
        change = await registry.latest_shadow_change(policy.scope)
        shadow_pair = None
        if change is not None and change.digest is not None:
            shadow = await registry.get_bundle(change.digest)
            shadow_text = await _model_text(registry, shadow)
            shadow_pair = (bundle_ref(shadow), shadow)
    except FraudPlatformError:
        shadow_pair, unreadable = None, True
    binding, shadow_codes = resolve_shadow(shadow_pair, PROVIDED_FEATURES,
                                           model_text=shadow_text, unreadable=unreadable)
    resolution = resolve(active, PROVIDED_FEATURES, fallback=policy.on_unusable_bundle,
                         bootstrap=bootstrap_pair(), model_text=model_text, shadow=binding,
                         shadow_reason_codes=shadow_codes)
    return ScopeResolution(resolution=resolution, activation=activation, shadow_change=change)

"""Registry: the sole owner of which model bundle is ACTIVE per scope (DESIGN sections 1, 6, 7).

- :mod:`app.registry.scorecard`: pure scoring of a scorecard bundle against a snapshot;
- :mod:`app.registry.resolver`: pure choice of the bundle DF scores with (ACTIVE or fallback),
  and the packaged bootstrap scorecard (``bootstrap_scorecard.yaml``);
- :mod:`app.registry.store`: bundles by digest and the append-only activation log in the object
  store (its docstring draws the registry's error tree).

The bundle contract itself is a rail: :mod:`app.rails.bundle`.
"""

from app.registry.resolver import (
    BOOTSTRAP_RESOURCE,
    Fallback,
    Resolution,
    bootstrap_pair,
    is_compatible,
    load_bootstrap,
    missing_features,
    resolve,
)
from app.registry.scorecard import (
    BandOutcome,
    FiredRule,
    ScoreResult,
    band_of,
    condition_holds,
    score,
)
from app.registry.store import (
    ACTIVATIONS_PREFIX,
    BUNDLES_PREFIX,
    Activation,
    ActivationConflictError,
    BundleNotFoundError,
    BundleRefInvalidError,
    BundleScopeMismatchError,
    NoActiveBundleError,
    RegistryError,
    RegistryStore,
    activation_fact,
)

__all__ = [
    "ACTIVATIONS_PREFIX",
    "BOOTSTRAP_RESOURCE",
    "BUNDLES_PREFIX",
    "Activation",
    "ActivationConflictError",
    "BandOutcome",
    "BundleNotFoundError",
    "BundleRefInvalidError",
    "BundleScopeMismatchError",
    "Fallback",
    "FiredRule",
    "NoActiveBundleError",
    "RegistryError",
    "RegistryStore",
    "Resolution",
    "ScoreResult",
    "activation_fact",
    "band_of",
    "bootstrap_pair",
    "condition_holds",
    "is_compatible",
    "load_bootstrap",
    "missing_features",
    "resolve",
    "score",
]

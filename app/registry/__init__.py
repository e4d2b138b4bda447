"""Registry: the sole owner of which model bundle is ACTIVE per scope (DESIGN sections 1, 6, 7).

- :mod:`app.registry.scorecard`: pure scoring of a scorecard bundle (now in
  :mod:`app.scoring`, one scorer per bundle kind; the names stay importable here);
- :mod:`app.registry.resolver`: pure choice of the bundle DF scores with (ACTIVE or fallback),
  and the packaged bootstrap scorecard (``bootstrap_scorecard.yaml``);
- :mod:`app.registry.store`: bundles and model texts by digest, and each scope's append-only
  history (activations, rollbacks, SHADOW changes) in the object store (its docstring draws the
  registry's error tree).

The bundle contract itself is a rail: :mod:`app.rails.bundle`.
"""

from app.registry.resolver import (
    BOOTSTRAP_RESOURCE,
    Fallback,
    Resolution,
    ShadowBinding,
    bootstrap_pair,
    is_compatible,
    load_bootstrap,
    missing_features,
    resolve,
    resolve_shadow,
)
from app.registry.scorecard import (
    BandOutcome,
    FiredRule,
    ScorecardScorer,
    ScoreResult,
    band_of,
    condition_holds,
    score,
)
from app.registry.store import (
    ACTIVATIONS_PREFIX,
    BUNDLES_PREFIX,
    MODELS_PREFIX,
    Activation,
    ActivationConflictError,
    BundleNotFoundError,
    BundleRefInvalidError,
    BundleScopeMismatchError,
    HistoryEntry,
    ModelNotFoundError,
    NoActiveBundleError,
    RegistryError,
    RegistryStore,
    ShadowChange,
    activation_fact,
    shadow_fact,
)

__all__ = [
    "ACTIVATIONS_PREFIX",
    "BOOTSTRAP_RESOURCE",
    "BUNDLES_PREFIX",
    "MODELS_PREFIX",
    "Activation",
    "ActivationConflictError",
    "BandOutcome",
    "BundleNotFoundError",
    "BundleRefInvalidError",
    "BundleScopeMismatchError",
    "Fallback",
    "FiredRule",
    "HistoryEntry",
    "ModelNotFoundError",
    "NoActiveBundleError",
    "RegistryError",
    "RegistryStore",
    "Resolution",
    "ScoreResult",
    "ScorecardScorer",
    "ShadowBinding",
    "ShadowChange",
    "activation_fact",
    "band_of",
    "bootstrap_pair",
    "condition_holds",
    "is_compatible",
    "load_bootstrap",
    "missing_features",
    "resolve",
    "resolve_shadow",
    "score",
    "shadow_fact",
]

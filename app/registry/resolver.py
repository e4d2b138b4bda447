"""Which bundle DF scores with: the ACTIVE one if it is usable, else the policy's fallback.

Resolution is a pure function of what the Registry says is ACTIVE, the features the feature
registry provides, and the policy's fallback choice, so every worker (and a replay) given the same
inputs lands on the same bundle and the same reason codes. A resolution carries the bundle's
scorer (:func:`app.scoring.scorer_for`; a model bundle needs its model text, read by the caller)
and, when the scope has one, the SHADOW bundle's (:func:`resolve_shadow`): a shadow that cannot
be used is absent, with ``SHADOW_UNAVAILABLE`` in :attr:`Resolution.shadow_reason_codes`.
A bundle is *compatible* when every feature it lists is provided: growing the registry never
breaks an ACTIVE bundle, and removing a feature it reads refuses it with ``BUNDLE_INCOMPATIBLE``
+ ``FEATURE_MISSING``, the missing names in :attr:`Resolution.missing_features`. The bootstrap
scorecard ships in this package (``bootstrap_scorecard.yaml``); :func:`load_bootstrap` reads it
on first use, never at import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Literal

from app.rails.bundle import (
    BundleInvalidError,
    ModelBundle,
    ScorecardBundle,
    bundle_ref,
    parse_bundle_yaml,
)
from app.rails.decision import BundleRef
from app.rails.reason_codes import ReasonCode
from app.scoring import ModelUnavailableError, Scorer, scorer_for

__all__ = [
    "BOOTSTRAP_RESOURCE",
    "Fallback",
    "Resolution",
    "ShadowBinding",
    "bootstrap_pair",
    "is_compatible",
    "load_bootstrap",
    "missing_features",
    "resolve",
    "resolve_shadow",
]

BOOTSTRAP_RESOURCE = "bootstrap_scorecard.yaml"
"""The bootstrap bundle's file name inside the ``app.registry`` package."""

Fallback = Literal["bootstrap", "fail_closed"]
"""What DF does when the ACTIVE bundle is unusable: score with the bootstrap, or with nothing."""


@dataclass(frozen=True, slots=True)
class ShadowBinding:
    """The scope's SHADOW bundle, ready to score: its ref and its scorer."""

    ref: BundleRef
    scorer: Scorer


@dataclass(frozen=True, slots=True)
class Resolution:
    """The bundle to score with (None: no model) and why it is not simply the ACTIVE one."""

    bundle: ScorecardBundle | ModelBundle | None
    ref: BundleRef | None
    reason_codes: tuple[str, ...]
    missing_features: tuple[str, ...] = ()
    """The ACTIVE bundle's features the registry does not provide (why it was refused)."""
    scorer: Scorer | None = field(default=None, compare=False)
    """Scores with ``bundle``; built here for a scorecard when not given (a model bundle's
    scorer needs its model text: :func:`resolve` builds it)."""
    shadow: ShadowBinding | None = None
    """The SHADOW bundle DF also scores (never acted on), if the scope has a usable one."""
    shadow_reason_codes: tuple[str, ...] = ()
    """``SHADOW_UNAVAILABLE`` when the scope has a SHADOW bundle that cannot be scored here."""

    def __post_init__(self) -> None:
        if self.scorer is None and isinstance(self.bundle, ScorecardBundle):
            object.__setattr__(self, "scorer", scorer_for(self.bundle))
        if self.bundle is not None and self.scorer is None:
            raise ValueError("a model bundle's Resolution needs its scorer (see resolve())")

    def detail(self) -> str | None:
        """A one-line explanation of a refusal, for logs and health (None if none)."""
        if not self.missing_features:
            return None
        return ("the ACTIVE bundle reads features the feature registry does not provide: "
                + ", ".join(self.missing_features))


@cache
def load_bootstrap() -> ScorecardBundle:
    """The bootstrap scorecard from the package YAML (read once per process).

    Raises:
        BundleInvalidError: the packaged file does not validate (a packaging bug; tests pin it).
    """
    text = files("app.registry").joinpath(BOOTSTRAP_RESOURCE).read_text(encoding="utf-8")
    source = f"app/registry/{BOOTSTRAP_RESOURCE}"
    bundle = parse_bundle_yaml(text, source=source)
    if not isinstance(bundle, ScorecardBundle):
        raise BundleInvalidError(source, ["kind: the bootstrap bundle must be a scorecard"])
    return bundle


def bootstrap_pair() -> tuple[BundleRef, ScorecardBundle]:
    """The bootstrap bundle with its by-digest ref (pure: the digest is of its canonical bytes)."""
    bundle = load_bootstrap()
    return bundle_ref(bundle), bundle


def missing_features(bundle: ScorecardBundle | ModelBundle, provided: Iterable[str]
                     ) -> tuple[str, ...]:
    """The features ``bundle`` lists that are not in ``provided``, sorted."""
    have = provided if isinstance(provided, frozenset | set) else frozenset(provided)
    return tuple(name for name in bundle.features if name not in have)


def is_compatible(bundle: ScorecardBundle | ModelBundle, provided: Iterable[str]) -> bool:
    """Whether every feature ``bundle`` lists is provided."""
    return not missing_features(bundle, provided)


def _scorer_or_none(bundle: ScorecardBundle | ModelBundle, model_text: bytes | None
                    ) -> Scorer | None:
    try:
        return scorer_for(bundle, model_text)
    except ModelUnavailableError:
        return None


def resolve(
    active: tuple[BundleRef, ScorecardBundle | ModelBundle] | None,
    provided: Iterable[str],
    *,
    fallback: Fallback,
    bootstrap: tuple[BundleRef, ScorecardBundle],
    model_text: bytes | None = None,
    shadow: ShadowBinding | None = None,
    shadow_reason_codes: tuple[str, ...] = (),
) -> Resolution:
    """Pick the bundle DF scores with.

    - a compatible ACTIVE bundle that can be scored: it, with no reason codes;
    - no ACTIVE bundle, or a model bundle whose model cannot be loaded: ``BUNDLE_UNRESOLVED``;
      one reading a feature the registry lacks: ``BUNDLE_INCOMPATIBLE`` and ``FEATURE_MISSING``
      (names in ``missing_features``); then, with ``fallback="bootstrap"`` and a compatible
      bootstrap, the bootstrap plus ``BUNDLE_FALLBACK``, otherwise no bundle (DF decides by
      guardrails alone).

    Args:
        active: the Registry's ACTIVE bundle for the scope and its ref, or None if unreadable.
        provided: the feature names the feature registry provides (``REGISTRY.names``).
        fallback: the policy's ``on_unusable_bundle``.
        bootstrap: the bootstrap bundle and its ref (:func:`bootstrap_pair`).
        model_text: the ACTIVE model bundle's model text (None: a scorecard, or a cached model).
        shadow, shadow_reason_codes: from :func:`resolve_shadow`, carried as they are.
    """
    have = frozenset(provided)
    missing: tuple[str, ...] = ()
    if active is not None:
        ref, bundle = active
        missing = missing_features(bundle, have)
        scorer = None if missing else _scorer_or_none(bundle, model_text)
        if scorer is not None:
            return Resolution(bundle=bundle, ref=ref, reason_codes=(), scorer=scorer,
                              shadow=shadow, shadow_reason_codes=shadow_reason_codes)
        reasons: tuple[str, ...] = ((ReasonCode.BUNDLE_INCOMPATIBLE.value,
                                     ReasonCode.FEATURE_MISSING.value) if missing
                                    else (ReasonCode.BUNDLE_UNRESOLVED.value,))
    else:
        reasons = (ReasonCode.BUNDLE_UNRESOLVED.value,)
    boot_ref, boot = bootstrap
    if fallback == "bootstrap" and is_compatible(boot, have):
        return Resolution(bundle=boot, ref=boot_ref, missing_features=missing,
                          reason_codes=(*reasons, ReasonCode.BUNDLE_FALLBACK.value),
                          shadow=shadow, shadow_reason_codes=shadow_reason_codes)
    return Resolution(bundle=None, ref=None, reason_codes=reasons, missing_features=missing,
                      shadow=shadow, shadow_reason_codes=shadow_reason_codes)


def resolve_shadow(
    shadow: tuple[BundleRef, ScorecardBundle | ModelBundle] | None,
    provided: Iterable[str],
    *,
    model_text: bytes | None = None,
    unreadable: bool = False,
) -> tuple[ShadowBinding | None, tuple[str, ...]]:
    """The SHADOW bundle to score alongside the ACTIVE one, and the reason codes for the decision.

    No shadow set: ``(None, ())``. A shadow that reads a feature the registry lacks, whose model
    cannot be loaded, or that could not be read (``unreadable``): ``(None,
    ("SHADOW_UNAVAILABLE",))``. A shadow never has a fallback: it is only ever recorded.
    """
    unavailable = (ReasonCode.SHADOW_UNAVAILABLE.value,)
    if shadow is None:
        return None, unavailable if unreadable else ()
    ref, bundle = shadow
    if missing_features(bundle, provided):
        return None, unavailable
    scorer = _scorer_or_none(bundle, model_text)
    if scorer is None:
        return None, unavailable
    return ShadowBinding(ref=ref, scorer=scorer), ()

"""Which bundle DF scores with: the ACTIVE one if it is usable, else the policy's fallback.

Resolution is a pure function of what the Registry says is ACTIVE, the features the feature
registry provides, and the policy's fallback choice, so every worker (and a replay) given the same
inputs lands on the same bundle and the same reason codes. A bundle is *compatible* when every
feature it lists is provided: growing the registry never breaks an ACTIVE bundle, and removing a
feature it reads refuses it with ``BUNDLE_INCOMPATIBLE`` + ``FEATURE_MISSING``, the missing names
in :attr:`Resolution.missing_features`. The bootstrap scorecard
ships in this package (``bootstrap_scorecard.yaml``); :func:`load_bootstrap` reads it on first
use, never at import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

from app.rails.bundle import ScorecardBundle, bundle_ref, parse_bundle_yaml
from app.rails.decision import BundleRef
from app.rails.reason_codes import ReasonCode

__all__ = [
    "BOOTSTRAP_RESOURCE",
    "Fallback",
    "Resolution",
    "bootstrap_pair",
    "is_compatible",
    "load_bootstrap",
    "missing_features",
    "resolve",
]

BOOTSTRAP_RESOURCE = "bootstrap_scorecard.yaml"
"""The bootstrap bundle's file name inside the ``app.registry`` package."""

Fallback = Literal["bootstrap", "fail_closed"]
"""What DF does when the ACTIVE bundle is unusable: score with the bootstrap, or with nothing."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """The bundle to score with (None: no model) and why it is not simply the ACTIVE one."""

    bundle: ScorecardBundle | None
    ref: BundleRef | None
    reason_codes: tuple[str, ...]
    missing_features: tuple[str, ...] = ()
    """The ACTIVE bundle's features the registry does not provide (why it was refused)."""

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
    return parse_bundle_yaml(text, source=f"app/registry/{BOOTSTRAP_RESOURCE}")


def bootstrap_pair() -> tuple[BundleRef, ScorecardBundle]:
    """The bootstrap bundle with its by-digest ref (pure: the digest is of its canonical bytes)."""
    bundle = load_bootstrap()
    return bundle_ref(bundle), bundle


def missing_features(bundle: ScorecardBundle, provided: Iterable[str]) -> tuple[str, ...]:
    """The features ``bundle`` lists that are not in ``provided``, sorted."""
    have = provided if isinstance(provided, frozenset | set) else frozenset(provided)
    return tuple(name for name in bundle.features if name not in have)


def is_compatible(bundle: ScorecardBundle, provided: Iterable[str]) -> bool:
    """Whether every feature ``bundle`` lists is provided."""
    return not missing_features(bundle, provided)


def resolve(
    active: tuple[BundleRef, ScorecardBundle] | None,
    provided: Iterable[str],
    *,
    fallback: Fallback,
    bootstrap: tuple[BundleRef, ScorecardBundle],
) -> Resolution:
    """Pick the bundle DF scores with.

    - a compatible ACTIVE bundle: it, with no reason codes;
    - no ACTIVE bundle: ``BUNDLE_UNRESOLVED``; one reading a feature the registry lacks:
      ``BUNDLE_INCOMPATIBLE`` and ``FEATURE_MISSING`` (names in ``missing_features``);
      then, with ``fallback="bootstrap"`` and a compatible bootstrap, the bootstrap plus
      ``BUNDLE_FALLBACK``, otherwise no bundle (DF decides by guardrails alone).

    Args:
        active: the Registry's ACTIVE bundle for the scope and its ref, or None if unreadable.
        provided: the feature names the feature registry provides (``REGISTRY.names``).
        fallback: the policy's ``on_unusable_bundle``.
        bootstrap: the bootstrap bundle and its ref (:func:`bootstrap_pair`).
    """
    have = frozenset(provided)
    missing: tuple[str, ...] = ()
    if active is not None:
        ref, bundle = active
        missing = missing_features(bundle, have)
        if not missing:
            return Resolution(bundle=bundle, ref=ref, reason_codes=())
        reasons: tuple[str, ...] = (ReasonCode.BUNDLE_INCOMPATIBLE.value,
                                    ReasonCode.FEATURE_MISSING.value)
    else:
        reasons = (ReasonCode.BUNDLE_UNRESOLVED.value,)
    boot_ref, boot = bootstrap
    if fallback == "bootstrap" and is_compatible(boot, have):
        return Resolution(bundle=boot, ref=boot_ref, missing_features=missing,
                          reason_codes=(*reasons, ReasonCode.BUNDLE_FALLBACK.value))
    return Resolution(bundle=None, ref=None, reason_codes=reasons, missing_features=missing)

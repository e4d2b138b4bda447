"""Which bundle DF scores with: the ACTIVE one if it is usable, else the policy's fallback.

Resolution is a pure function of what the Registry says is ACTIVE, the feature sets the online
features provide, and the policy's fallback choice, so every worker (and a replay) given the same
inputs lands on the same bundle and the same reason codes. A bundle is *compatible* when every
feature set it declares is provided at exactly the declared version. The bootstrap scorecard
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
from app.rails.decision import BundleRef, FeatureSetRef
from app.rails.reason_codes import ReasonCode

__all__ = [
    "BOOTSTRAP_RESOURCE",
    "Fallback",
    "Resolution",
    "bootstrap_pair",
    "is_compatible",
    "load_bootstrap",
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


def is_compatible(bundle: ScorecardBundle, provided: Iterable[FeatureSetRef]) -> bool:
    """Whether every feature set ``bundle`` declares is provided at exactly that version."""
    have = set(provided)
    return all(fs in have for fs in bundle.feature_sets)


def resolve(
    active: tuple[BundleRef, ScorecardBundle] | None,
    provided: Iterable[FeatureSetRef],
    *,
    fallback: Fallback,
    bootstrap: tuple[BundleRef, ScorecardBundle],
) -> Resolution:
    """Pick the bundle DF scores with.

    - a compatible ACTIVE bundle: it, with no reason codes;
    - no ACTIVE bundle: ``BUNDLE_UNRESOLVED``; an incompatible one: ``BUNDLE_INCOMPATIBLE``;
      then, with ``fallback="bootstrap"`` and a compatible bootstrap, the bootstrap plus
      ``BUNDLE_FALLBACK``, otherwise no bundle (DF decides by guardrails alone).

    Args:
        active: the Registry's ACTIVE bundle for the scope and its ref, or None if unreadable.
        provided: the feature sets the online snapshot provides.
        fallback: the policy's ``on_unusable_bundle``.
        bootstrap: the bootstrap bundle and its ref (:func:`bootstrap_pair`).
    """
    have = frozenset(provided)
    if active is not None:
        ref, bundle = active
        if is_compatible(bundle, have):
            return Resolution(bundle=bundle, ref=ref, reason_codes=())
        reasons: tuple[str, ...] = (ReasonCode.BUNDLE_INCOMPATIBLE.value,)
    else:
        reasons = (ReasonCode.BUNDLE_UNRESOLVED.value,)
    boot_ref, boot = bootstrap
    if fallback == "bootstrap" and is_compatible(boot, have):
        return Resolution(bundle=boot, ref=boot_ref,
                          reason_codes=(*reasons, ReasonCode.BUNDLE_FALLBACK.value))
    return Resolution(bundle=None, ref=None, reason_codes=reasons)

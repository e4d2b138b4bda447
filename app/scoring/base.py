"""The one scoring interface: a :class:`Scorer` turns a snapshot's values into a :class:`Scored`.

Every bundle kind has its scorer (``app.scoring.scorer_for`` picks it by ``kind``); DF only ever
sees this interface, so the decision code has no special case per kind. A scorer is pure and
deterministic: the same bundle and the same values give the same :class:`Scored`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from app.rails.bundle import ModelBundle, ScorecardBundle
from app.rails.decision import FeatureValue
from app.rails.errors import FraudPlatformError

__all__ = ["BandOutcome", "ModelUnavailableError", "Scored", "Scorer"]

BandOutcome = Literal["APPROVE", "STEP_UP", "REVIEW", "DECLINE"]
"""The outcome a score's band asks for (least to most friction)."""


@dataclass(frozen=True, slots=True)
class Scored:
    """A score, the band it falls in, and the bundle's reason codes for it (in a stable order)."""

    score: float
    outcome_band: BandOutcome
    reason_codes: tuple[str, ...]


class Scorer(Protocol):
    """Scores one snapshot's values with one bundle."""

    @property
    def bundle(self) -> ScorecardBundle | ModelBundle:
        """The bundle this scorer scores with."""
        ...

    def score(self, values: Mapping[str, FeatureValue]) -> Scored:
        """Score ``values`` (feature name -> value; an absent feature reads as ``None``)."""
        ...


class ModelUnavailableError(FraudPlatformError):
    """A model bundle cannot be scored: its model text is missing, does not match the bundle's
    ``model_digest``, or is not a binary LightGBM model over the bundle's features."""

    reason_code = "MODEL_UNAVAILABLE"

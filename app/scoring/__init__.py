"""Scoring: one interface for every bundle kind (DESIGN "Route by type").

- :mod:`app.scoring.base`: :class:`Scorer` (``score(values) -> Scored``) and :class:`Scored`;
- :mod:`app.scoring.scorecard`: :class:`ScorecardScorer`, the transparent rules;
- :mod:`app.scoring.lightgbm_model`: :class:`LightGBMScorer`, a trained model in LightGBM's text
  format, by digest.

:func:`scorer_for` picks the scorer by the bundle's ``kind``. The condition model that scorecard
rules and DF's guardrails share is a rail: :mod:`app.rails.condition`.
"""

from __future__ import annotations

from app.rails.bundle import ModelBundle, ScorecardBundle
from app.scoring.base import BandOutcome, ModelUnavailableError, Scored, Scorer
from app.scoring.lightgbm_model import LightGBMScorer, booster_cached, feature_row
from app.scoring.scorecard import ScorecardScorer

__all__ = [
    "BandOutcome",
    "LightGBMScorer",
    "ModelUnavailableError",
    "ScorecardScorer",
    "Scored",
    "Scorer",
    "booster_cached",
    "feature_row",
    "scorer_for",
]


def scorer_for(bundle: ScorecardBundle | ModelBundle, model_text: bytes | None = None) -> Scorer:
    """The scorer for ``bundle``'s kind.

    Args:
        bundle: a scorecard or a model bundle.
        model_text: a ``lightgbm`` bundle's model text (``RegistryStore.get_model``); may be
            None when that model is cached already (:func:`booster_cached`). Ignored for a
            scorecard.

    Raises:
        ModelUnavailableError: a model bundle whose model cannot be loaded (see
            :class:`LightGBMScorer`).
    """
    if isinstance(bundle, ScorecardBundle):
        return ScorecardScorer(bundle)
    return LightGBMScorer(bundle, model_text)

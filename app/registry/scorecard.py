"""Scoring a scorecard bundle: moved to :mod:`app.scoring.scorecard` (issue #15); these names
stay importable from here."""

from __future__ import annotations

from app.scoring.base import BandOutcome
from app.scoring.scorecard import (
    FiredRule,
    ScorecardScorer,
    ScoreResult,
    band_of,
    condition_holds,
    score,
)

__all__ = [
    "BandOutcome",
    "FiredRule",
    "ScoreResult",
    "ScorecardScorer",
    "band_of",
    "condition_holds",
    "score",
]

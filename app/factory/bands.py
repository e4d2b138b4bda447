"""Score bands from policy targets on legitimate traffic.

Targets are rates on legitimate (label 0) *training* rows: the share to step up, to review and to
decline. They nest: the decline band is the score at or above which at most ``decline_rate`` of
legitimate rows fall; the review band, at most ``review_rate + decline_rate``; the step-up band,
at most ``step_up_rate + review_rate + decline_rate``. Each band is a threshold from
:func:`app.factory.metrics.threshold_at_share` (``score >= band``, ties never split, so a rate is
met from below), clipped to [0, 1]; larger cumulative shares give lower thresholds, so the bands
are non-decreasing: ``step_up <= review <= decline``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from app.factory.metrics import threshold_at_share

__all__ = ["BandTargets", "Bands", "band_rates", "pick_bands"]


@dataclass(frozen=True)
class BandTargets:
    """Policy's target rates on legitimate traffic, per outcome (not cumulative)."""

    step_up_rate: float = 0.03
    review_rate: float = 0.008
    decline_rate: float = 0.002

    def __post_init__(self) -> None:
        rates = (self.step_up_rate, self.review_rate, self.decline_rate)
        if min(rates) < 0 or sum(rates) > 1:
            raise ValueError("band target rates must be >= 0 and sum to at most 1")

    def cumulative(self) -> dict[str, float]:
        """Share of legitimate rows at or above each band."""
        return {"step_up": self.step_up_rate + self.review_rate + self.decline_rate,
                "review": self.review_rate + self.decline_rate,
                "decline": self.decline_rate}

    def as_dict(self) -> dict[str, float]:
        """Every field, as plain JSON values."""
        return asdict(self)


@dataclass(frozen=True)
class Bands:
    """Probability thresholds: ``score >= band`` gives that outcome (the highest reached wins)."""

    step_up: float
    review: float
    decline: float

    def as_dict(self) -> dict[str, float]:
        """``{step_up, review, decline}``."""
        return asdict(self)


def pick_bands(negative_scores: npt.NDArray[np.float64], targets: BandTargets) -> Bands:
    """Bands meeting ``targets`` on the candidate's scores of legitimate training rows.

    Raises:
        ValueError: without legitimate rows to calibrate on.
    """
    if len(negative_scores) == 0:
        raise ValueError("no legitimate rows to pick bands on")
    cumulative = targets.cumulative()
    picked = {}
    for name in ("decline", "review", "step_up"):
        t = threshold_at_share(negative_scores, cumulative[name])
        picked[name] = 0.0 if math.isinf(t) else min(1.0, max(0.0, t))
    bands = Bands(**picked)
    assert bands.step_up <= bands.review <= bands.decline, bands
    return bands


def band_rates(negative_scores: npt.NDArray[np.float64], bands: Bands) -> dict[str, float]:
    """Share of ``negative_scores`` at or above each band (cumulative, like the targets)."""
    scores = np.asarray(negative_scores, dtype=np.float64)
    return {name: float((scores >= band).mean()) if scores.size else math.nan
            for name, band in bands.as_dict().items()}

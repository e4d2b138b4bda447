"""The ``policy.learning`` part of a profile: what the model factory may trade for recall.

The score bands of a trained bundle are picked to meet these rates on legitimate training rows
(out of fold, :mod:`app.factory.bands`). They are the friction budget a fraud team signs off,
so they live in policy (stamped on every decision's ``policy_rev``), not in code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:  # the factory (numpy, LightGBM) is not loaded to read a profile
    from app.factory.bands import BandTargets

__all__ = ["BandTargetsPolicy", "LearningPolicy"]

_Closed = ConfigDict(extra="forbid", frozen=True)


class BandTargetsPolicy(BaseModel):
    """Target shares of legitimate traffic per outcome (not cumulative)."""

    model_config = _Closed

    step_up_rate: float = Field(default=0.03, ge=0, le=1,
                                description="Share of legitimate authorisations to step up.")
    review_rate: float = Field(default=0.008, ge=0, le=1,
                               description="Share of legitimate authorisations to hold for review.")
    decline_rate: float = Field(default=0.002, ge=0, le=1,
                                description="Share of legitimate authorisations to decline.")

    @model_validator(mode="after")
    def _budget(self) -> BandTargetsPolicy:
        if self.step_up_rate + self.review_rate + self.decline_rate > 1:
            raise ValueError("band target rates sum to more than 1")
        return self

    def targets(self) -> BandTargets:
        from app.factory.bands import BandTargets

        return BandTargets(self.step_up_rate, self.review_rate, self.decline_rate)


class LearningPolicy(BaseModel):
    """Knobs of the learning loop that change what a promoted model would decide."""

    model_config = _Closed

    band_targets: BandTargetsPolicy = Field(
        default_factory=BandTargetsPolicy,
        description="Friction budget the factory's score bands are picked to meet.")

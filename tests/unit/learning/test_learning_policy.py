"""``policy.learning``: the friction budget the factory's bands meet is validated policy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.factory.bands import BandTargets
from app.learning.policy import BandTargetsPolicy, LearningPolicy
from app.profiles.loader import load_profile


def test_every_profile_states_its_budget_and_it_reaches_the_factory() -> None:
    for name in ("local", "local-full", "dev", "prod"):
        targets = load_profile(name).policy.learning.band_targets.targets()
        assert targets == BandTargets(0.03, 0.008, 0.002)


def test_a_budget_over_everything_or_a_negative_rate_is_refused() -> None:
    with pytest.raises(ValidationError, match="sum to more than 1"):
        BandTargetsPolicy(step_up_rate=0.6, review_rate=0.3, decline_rate=0.2)
    with pytest.raises(ValidationError):
        BandTargetsPolicy(decline_rate=-0.01)
    with pytest.raises(ValidationError):
        LearningPolicy.model_validate({"band_targets": {"step_up": 0.1}})  # unknown key


def test_the_budget_is_part_of_the_policy_stamp() -> None:
    profile = load_profile("local")
    tighter = profile.policy.model_copy(update={"learning": LearningPolicy(
        band_targets=BandTargetsPolicy(step_up_rate=0.017, review_rate=0.006))})
    assert tighter != profile.policy
    assert profile.model_copy(update={"policy": tighter}).policy_rev != profile.policy_rev

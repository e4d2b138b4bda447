"""Parameters validate clearly and hash without the seed."""

from __future__ import annotations

import datetime as dt

import pytest

from app.rails.canonical_json import canonical_dumps, sha256_hex
from world_engine import CampaignMix, WorldParams, WorldParamsError, parse_params
from world_engine.campaigns import campaign_budgets


def test_parameter_hash_is_sha256_of_canonical_params_without_seed() -> None:
    params = WorldParams()
    body = params.model_dump(mode="json")
    assert "seed" not in body
    assert params.parameter_hash() == sha256_hex(canonical_dumps(body))
    assert body["start_date"] == "2025-03-03"


@pytest.mark.parametrize(
    "override",
    [
        {"scale": "medium"},
        {"days": 8},
        {"start_date": dt.date(2025, 3, 4)},
        {"fraud_rate_target": 0.02},
        {"campaign_mix": CampaignMix(card_testing=0.4, account_takeover=0.15)},
    ],
)
def test_every_parameter_changes_the_hash(override: dict[str, object]) -> None:
    assert WorldParams(**override).parameter_hash() != WorldParams().parameter_hash()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"scale": "huge"}, "scale"),
        ({"days": 0}, "days"),
        ({"days": -3}, "days"),
        ({"fraud_rate_target": 0.2}, "fraud_rate_target"),
        ({"start_date": "03/03/2025"}, "start_date"),
        ({"colour": "blue"}, "colour"),
        ({"campaign_mix": {"card_testing": 0.9}}, "campaign_mix"),
    ],
)
def test_bad_parameters_raise_a_params_error_naming_the_field(
    values: dict[str, object], field: str
) -> None:
    with pytest.raises(WorldParamsError) as info:
        parse_params(**values)
    assert info.value.field == field
    assert info.value.reason_code == "WORLD_PARAMS_INVALID"


def test_budgets_split_the_total_exactly_by_the_mix() -> None:
    params = WorldParams(scale="small")
    budgets = campaign_budgets(params)
    total = sum(budgets.values())
    for kind, count in budgets.items():
        assert abs(count - total * params.campaign_mix.share(kind)) <= 1  # type: ignore[arg-type]

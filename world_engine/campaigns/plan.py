"""The campaign plan: how many fraud and abuse flows each kind gets, and all of them, in time order.

This module owns the budget. The world's fraud+abuse flows number
``round(E * r / (1 - r))`` where ``E`` is the expected legitimate volume and ``r`` the
``fraud_rate_target``; they are split over the kinds by ``campaign_mix`` (largest remainder, so
the parts sum exactly). Each kind's generator is asked for comfortably more instances than its
budget needs; rows outside the authorisation window are dropped and whole instances are kept in
order until the budget is filled (the last instance may be cut short). Campaign flows are small
(1.5 % of traffic by default), so the whole plan is built up front and handed out day by day.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from world_engine.arrivals import DAY_US, expected_auths
from world_engine.campaigns import (
    account_takeover,
    card_testing,
    merchant_collusion,
    mule_activity,
    refund_abuse,
)
from world_engine.campaigns.base import Horizon
from world_engine.entities import World
from world_engine.flows import FlowBatch, concat_flows, make_flows
from world_engine.params import CAMPAIGN_KINDS, CampaignKind, WorldParams
from world_engine.rng import stream

__all__ = ["CampaignPlan", "campaign_budgets", "plan_campaigns"]

_Generator = Callable[[World, Horizon, np.random.Generator, int], FlowBatch]
_GENERATORS: dict[CampaignKind, tuple[_Generator, float]] = {
    "card_testing": (card_testing.generate, card_testing.MEAN_ROWS),
    "account_takeover": (account_takeover.generate, account_takeover.MEAN_ROWS),
    "refund_abuse": (refund_abuse.generate, refund_abuse.MEAN_ROWS),
    "merchant_collusion": (merchant_collusion.generate, merchant_collusion.MEAN_ROWS),
    "mule_activity": (mule_activity.generate, mule_activity.MEAN_ROWS),
}


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """Every campaign flow of the world in time order, and the campaign ids they point to."""

    flows: FlowBatch
    campaign_ids: tuple[str, ...]
    budgets: dict[str, int]
    start_us: int

    def flows_on_day(self, day: int) -> FlowBatch:
        """Campaign flows whose ``ts_utc`` falls on day index ``day``."""
        lo, hi = np.searchsorted(
            self.flows.ts_us,
            [self.start_us + day * DAY_US, self.start_us + (day + 1) * DAY_US],
            side="left",
        )
        return self.flows.take(np.arange(lo, hi))


def campaign_budgets(params: WorldParams) -> dict[str, int]:
    """Flows per campaign kind for ``params`` (sums to the total fraud+abuse budget)."""
    legit = expected_auths(params.spec.auths_per_day, params.start_date, params.days)
    rate = params.fraud_rate_target
    total = round(legit * rate / (1 - rate))
    exact = {k: total * params.campaign_mix.share(k) for k in CAMPAIGN_KINDS}
    budgets = {k: math.floor(v) for k, v in exact.items()}
    by_remainder = sorted(CAMPAIGN_KINDS, key=lambda k: (-(exact[k] - budgets[k]), k))
    for kind in by_remainder[: total - sum(budgets.values())]:
        budgets[kind] += 1
    return budgets


def _trim(batch: FlowBatch, horizon: Horizon, budget: int) -> FlowBatch:
    inside = (batch.ts_us >= horizon.start_us) & (batch.ts_us < horizon.end_us)
    batch = batch.take(np.flatnonzero(inside))
    order = np.lexsort((batch.ts_us, batch.campaign))
    return batch.take(order[:budget])


def plan_campaigns(world: World, params: WorldParams, seed: int) -> CampaignPlan:
    """Generate every campaign flow of the world (deterministic in ``seed`` and ``params``)."""
    horizon = Horizon(params.start_epoch_micros, params.days, params.start_date)
    budgets = campaign_budgets(params)
    parts: list[FlowBatch] = []
    ids: list[str] = []
    for kind in CAMPAIGN_KINDS:
        budget = budgets[kind]
        if budget == 0:
            continue
        generate, mean_rows = _GENERATORS[kind]
        instances = math.ceil(budget / mean_rows * 1.5) + 3
        batch = _trim(
            generate(world, horizon, stream(seed, f"campaign.{kind}"), instances), horizon, budget
        )
        present, dense = np.unique(batch.campaign, return_inverse=True)
        offset = len(ids)
        ids.extend(f"camp_{kind}_{i:05d}" for i in range(present.size))
        parts.append(replace(batch, campaign=(dense + offset).astype(np.int32)))
    flows = concat_flows(parts).sorted_by_time() if parts else _no_flows(world)
    return CampaignPlan(
        flows=flows, campaign_ids=tuple(ids), budgets=budgets, start_us=horizon.start_us
    )


def _no_flows(world: World) -> FlowBatch:
    none = np.zeros(0, dtype=np.int64)
    return make_flows(
        world,
        ts_us=none,
        card=none,
        merchant=none,
        channel=none,
        entry_mode=none,
        amount_minor=none,
    )

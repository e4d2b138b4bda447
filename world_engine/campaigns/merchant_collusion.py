"""Merchant collusion: a small merchant runs stolen and mule cards through its terminal.

A colluding merchant (a few small resale merchants: misc retail, electronics, jewellery, gift
cards) processes 10-60 card-present transactions over 1-4 days, mostly late evening and at
night, 70 % keyed in by hand and most of the rest by magstripe, for round amounts (100-2 000 in
steps of 50), on cards that never shopped there: 70 % stolen cards of the bank, 30 % mule cards.
Signal: keyed/magstripe share, round amounts, many first-time cards at one small merchant at
night.
"""

from __future__ import annotations

import numpy as np

from world_engine.amounts import round_amounts
from world_engine.campaigns.base import Horizon, day_times, start_days
from world_engine.catalog import ENTRY_MODES, code_of
from world_engine.entities import World
from world_engine.flows import FlowBatch, make_flows
from world_engine.truth import FRAUD, SUBTYPE_COLLUSION

__all__ = ["MEAN_ROWS", "generate"]

MEAN_ROWS = 35.0
_CHIP, _MAGSTRIPE, _KEYED = (code_of(ENTRY_MODES, m) for m in ("chip", "magstripe", "keyed"))


def generate(world: World, horizon: Horizon, rng: np.random.Generator, k: int) -> FlowBatch:
    """``k`` collusion episodes; ``campaign`` holds the instance index."""
    colluders = world.roles.colluding_merchants
    merchant = colluders[rng.integers(0, colluders.size, k)]
    rows = rng.integers(10, 61, k)
    inst = np.repeat(np.arange(k), rows)
    n = inst.size
    span = rng.integers(1, 5, k)
    day = start_days(rng, horizon, k, 4)[inst] + (rng.random(n) * span[inst]).astype(np.int64)
    day = np.minimum(day, horizon.days - 1)
    mules = world.roles.mule_customers
    mule_card = world.first_card[mules[rng.integers(0, mules.size, n)]]
    stolen_card = rng.integers(0, world.n_card_rows, n)
    u = rng.random(n)
    entry = np.where(u < 0.7, _KEYED, np.where(u < 0.9, _MAGSTRIPE, _CHIP))
    return make_flows(
        world,
        ts_us=day_times(rng, horizon, day, 0.6, False),
        card=np.where(rng.random(n) < 0.3, mule_card, stolen_card),
        merchant=merchant[inst],
        channel=np.zeros(n, dtype=np.int8),
        entry_mode=entry,
        amount_minor=round_amounts(rng, n, 100, 2000, 50),
        p_decline=0.10,
        label=FRAUD,
        subtype=SUBTYPE_COLLUSION,
        campaign=inst,
    )

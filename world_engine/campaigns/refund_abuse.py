"""Refund abuse: genuine customers who buy online and get most purchases refunded, quickly.

An abuser (a fixed set of the bank's customers) runs sprees of 3-12 online purchases over 3-14
days at 1-3 clothing, department-store, retail or electronics merchants, with their own card,
their own devices and their home broadband, at about 1.5x the usual basket. 85 % of those
purchases are refunded within days (median 3 days after clearing). Truth label ``abuse``, not
``fraud``: nothing is stolen, identities are genuine, so the signal is behavioural only (refund
ratio per card and account, repeat merchants).
"""

from __future__ import annotations

import numpy as np

from world_engine.amounts import sample_amounts
from world_engine.campaigns.base import Horizon, choose_sets, day_times, per_row, start_days
from world_engine.catalog import ENTRY_MODES, code_of
from world_engine.entities import World
from world_engine.flows import FlowBatch, make_flows
from world_engine.truth import ABUSE, SUBTYPE_REFUND_ABUSE

__all__ = ["MEAN_ROWS", "generate"]

MEAN_ROWS = 7.5
_ECOM = code_of(ENTRY_MODES, "ecommerce")
_SHOP_MCCS = ("5651", "5311", "5999", "5732")


def generate(world: World, horizon: Horizon, rng: np.random.Generator, k: int) -> FlowBatch:
    """``k`` refund-abuse sprees; ``campaign`` holds the instance index."""
    abuser = world.roles.refund_abusers[rng.integers(0, world.roles.refund_abusers.size, k)]
    rows = rng.integers(3, 13, k)
    inst = np.repeat(np.arange(k), rows)
    n = inst.size
    span = rng.integers(3, 15, k)
    first_day = start_days(rng, horizon, k, 3)
    day = first_day[inst] + (rng.random(n) * span[inst]).astype(np.int64)
    day = np.minimum(day, horizon.days - 1)
    shops, shop_count = choose_sets(rng, world.merchants_in(_SHOP_MCCS), k, 1, 3)
    merchant = per_row(rng, shops, shop_count, inst)
    customer = abuser[inst]
    slot = (rng.random(n) * world.devices_per_customer[customer]).astype(np.int64)
    return make_flows(
        world,
        ts_us=day_times(rng, horizon, day, 0.0, True),
        card=world.first_card[customer],
        merchant=merchant,
        channel=np.ones(n, dtype=np.int8),
        entry_mode=np.full(n, _ECOM),
        amount_minor=sample_amounts(rng, world.merchant_mcc[merchant], scale=1.5),
        device=world.devices[customer, slot],
        ip=world.home_ip[customer],
        p_decline=0.02,
        p_refund=0.85,
        fast_refund=True,
        label=ABUSE,
        subtype=SUBTYPE_REFUND_ABUSE,
        campaign=inst,
    )

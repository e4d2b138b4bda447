"""Mule activity: a ring of recently onboarded customers cashing out through shared devices.

A ring of 3-8 mule customers (recently onboarded, slightly riskier at KYC) cashes out over 1-3
days: each mule's card makes 2-6 online purchases at money-transfer, crypto/quasi-cash and
gift-card merchants, mostly round amounts (100-2 500), all from the ring's 1-2 farm devices and
1-3 datacenter/VPN IPs. Signal: one device and IP shared by several unrelated customers (graph
degree), young accounts, cash-like categories, round amounts.
"""

from __future__ import annotations

import numpy as np

from world_engine.amounts import round_amounts, sample_amounts
from world_engine.campaigns.base import Horizon, choose_sets, day_times, per_row, start_days
from world_engine.catalog import ENTRY_MODES, code_of
from world_engine.entities import World
from world_engine.flows import FlowBatch, make_flows
from world_engine.truth import FRAUD, SUBTYPE_MULE

__all__ = ["MEAN_ROWS", "generate"]

MEAN_ROWS = 22.0
_ECOM = code_of(ENTRY_MODES, "ecommerce")
_CASHOUT_MCCS = ("4829", "6051", "5947")


def generate(world: World, horizon: Horizon, rng: np.random.Generator, k: int) -> FlowBatch:
    """``k`` mule rings; ``campaign`` holds the instance index."""
    ring_size = rng.integers(3, 9, k)
    ring_of_mule = np.repeat(np.arange(k), ring_size)
    mule = world.roles.mule_customers[
        rng.integers(0, world.roles.mule_customers.size, ring_of_mule.size)
    ]
    per_mule = rng.integers(2, 7, ring_of_mule.size)
    inst = np.repeat(ring_of_mule, per_mule)
    customer = np.repeat(mule, per_mule)
    n = inst.size
    span = rng.integers(1, 4, k)
    day = start_days(rng, horizon, k, 3)[inst] + (rng.random(n) * span[inst]).astype(np.int64)
    day = np.minimum(day, horizon.days - 1)
    devs, dev_count = choose_sets(rng, world.roles.farm_devices, k, 1, 2)
    ips, ip_count = choose_sets(rng, world.roles.fraud_ips, k, 1, 3)
    shops = world.merchants_in(_CASHOUT_MCCS)
    merchant = shops[rng.integers(0, shops.size, n)]
    amount = np.where(
        rng.random(n) < 0.6,
        round_amounts(rng, n, 100, 2500, 50),
        sample_amounts(rng, world.merchant_mcc[merchant], scale=2.0),
    )
    return make_flows(
        world,
        ts_us=day_times(rng, horizon, day, 0.5, True),
        card=world.first_card[customer],
        merchant=merchant,
        channel=np.ones(n, dtype=np.int8),
        entry_mode=np.full(n, _ECOM),
        amount_minor=amount,
        device=per_row(rng, devs, dev_count, inst),
        ip=per_row(rng, ips, ip_count, inst),
        p_decline=0.08,
        label=FRAUD,
        subtype=SUBTYPE_MULE,
        campaign=inst,
    )

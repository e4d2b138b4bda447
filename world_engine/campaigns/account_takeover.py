"""Account takeover: a fraudster logs in from a new device and IP, then spends big, fast.

Each takeover hits one customer's card: from an *attacker* device the customer never used
(attacker devices are reused across a few takeovers) and a datacenter/VPN IP or another
household's residential IP (a residential proxy), it makes 2-6 online purchases 3-60 minutes
apart at electronics, jewellery, gift-card, travel and crypto merchants, at about twice the usual
basket; a third of takeovers open with a small test purchase. Signal: new device and IP for the
card, amount far above the card's history, high-risk categories, a burst.
"""

from __future__ import annotations

import numpy as np

from world_engine.amounts import sample_amounts
from world_engine.campaigns.base import MINUTE_US, Horizon, day_times, start_days
from world_engine.catalog import ENTRY_MODES, code_of
from world_engine.entities import World
from world_engine.flows import FlowBatch, make_flows
from world_engine.truth import FRAUD, SUBTYPE_TAKEOVER

__all__ = ["MEAN_ROWS", "generate"]

MEAN_ROWS = 4.0
_ECOM = code_of(ENTRY_MODES, "ecommerce")
_TARGET_MCCS = ("5732", "5944", "5947", "4722", "4511", "6051")


def generate(world: World, horizon: Horizon, rng: np.random.Generator, k: int) -> FlowBatch:
    """``k`` takeovers; ``campaign`` holds the instance index."""
    victim = rng.integers(0, world.n_customers, k)
    card = world.first_card[victim] + (rng.random(k) * world.cards_per_customer[victim]).astype(
        np.int64
    )
    rows = rng.integers(2, 7, k)
    inst = np.repeat(np.arange(k), rows)
    n = inst.size
    start = day_times(rng, horizon, start_days(rng, horizon, k, 1), 0.3, True)
    gaps = rng.integers(3, 61, n) * MINUTE_US
    first_of = np.concatenate(([0], np.cumsum(rows)[:-1]))
    gaps[first_of] = 0
    elapsed = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first_of], rows)
    device = world.roles.attacker_devices[rng.integers(0, world.roles.attacker_devices.size, k)]
    proxy = world.home_ip[rng.integers(0, world.n_customers, k)]
    fraud_ip = world.roles.fraud_ips[rng.integers(0, world.roles.fraud_ips.size, k)]
    ip = np.where(rng.random(k) < 0.7, fraud_ip, proxy)
    shops = world.merchants_in(_TARGET_MCCS)
    merchant = shops[rng.integers(0, shops.size, n)]
    amount = sample_amounts(rng, world.merchant_mcc[merchant], scale=2.0)
    test_first = np.zeros(n, dtype=bool)
    test_first[first_of] = rng.random(k) < 0.33
    amount = np.where(test_first, rng.integers(100, 1001, n), amount)
    return make_flows(
        world,
        ts_us=start[inst] + elapsed,
        card=card[inst],
        merchant=merchant,
        channel=np.ones(n, dtype=np.int8),
        entry_mode=np.full(n, _ECOM),
        amount_minor=amount,
        device=device[inst],
        ip=ip[inst],
        p_decline=0.12,
        label=FRAUD,
        subtype=SUBTYPE_TAKEOVER,
        campaign=inst,
    )

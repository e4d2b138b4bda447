"""Card testing: bursts of tiny online authorisations on many cards from a few IPs and devices.

A burst runs 5-40 minutes, mostly at night, probing 25-150 stolen card numbers of the bank
(0.50-3.00, or exactly 1.00) at one or two digital-goods or charity merchants, through 1-3
datacenter/VPN IPs and 1-2 farm devices; about 35 % of probes are declined. A quarter of the cards
that pass are cashed out 1-6 days later (subtype ``card_testing_cashout``): 1-3 large online
purchases of resaleable goods from other fraud IPs and devices. Signal: many distinct cards per
IP/device within minutes, tiny amounts, and later a new device on a recently probed card.
"""

from __future__ import annotations

import numpy as np

from world_engine.amounts import sample_amounts
from world_engine.arrivals import DAY_US
from world_engine.campaigns.base import (
    MINUTE_US,
    Horizon,
    choose_sets,
    day_times,
    per_row,
    start_days,
)
from world_engine.catalog import ENTRY_MODES, code_of
from world_engine.entities import World
from world_engine.flows import FlowBatch, concat_flows, make_flows
from world_engine.truth import FRAUD, SUBTYPE_CARD_TESTING, SUBTYPE_CASHOUT

__all__ = ["MEAN_ROWS", "generate"]

MEAN_ROWS = 110.0
"""Expected rows per instance (probes plus cash-outs), used to size the plan."""

_ECOM = code_of(ENTRY_MODES, "ecommerce")
_PROBE_MCCS = ("5815", "5816", "8398")
_CASHOUT_MCCS = ("5732", "5944", "5947", "4722")


def generate(world: World, horizon: Horizon, rng: np.random.Generator, k: int) -> FlowBatch:
    """``k`` card-testing instances; ``campaign`` holds the instance index."""
    n_probe = rng.integers(25, 151, k)
    inst = np.repeat(np.arange(k), n_probe)
    n = inst.size
    start = day_times(rng, horizon, start_days(rng, horizon, k, 7), 0.7, True)
    duration = rng.integers(5, 41, k) * MINUTE_US
    ts = start[inst] + (rng.random(n) * duration[inst]).astype(np.int64)
    card = rng.integers(0, world.n_card_rows, n)
    ips, ip_count = choose_sets(rng, world.roles.fraud_ips, k, 1, 3)
    devs, dev_count = choose_sets(rng, world.roles.farm_devices, k, 1, 2)
    shops, shop_count = choose_sets(rng, world.merchants_in(_PROBE_MCCS), k, 1, 2)
    amount = np.where(rng.random(n) < 0.4, 100, rng.integers(50, 301, n))
    declined = rng.random(n) < 0.35
    probes = make_flows(
        world,
        ts_us=ts,
        card=card,
        merchant=per_row(rng, shops, shop_count, inst),
        channel=np.ones(n, dtype=np.int8),
        entry_mode=np.full(n, _ECOM),
        amount_minor=amount,
        device=per_row(rng, devs, dev_count, inst),
        ip=per_row(rng, ips, ip_count, inst),
        p_decline=declined.astype(np.float64),
        label=FRAUD,
        subtype=SUBTYPE_CARD_TESTING,
        campaign=inst,
    )

    passed = np.flatnonzero(~declined & (rng.random(n) < 0.25))
    source = np.repeat(passed, rng.integers(1, 4, passed.size))
    m = source.size
    rogue_devices = np.concatenate((world.roles.farm_devices, world.roles.attacker_devices))
    cashout_shops = world.merchants_in(_CASHOUT_MCCS)
    merchant = cashout_shops[rng.integers(0, cashout_shops.size, m)]
    later = (DAY_US + rng.random(m) * 5 * DAY_US).astype(np.int64)
    cashouts = make_flows(
        world,
        ts_us=ts[source] + later,
        card=card[source],
        merchant=merchant,
        channel=np.ones(m, dtype=np.int8),
        entry_mode=np.full(m, _ECOM),
        amount_minor=sample_amounts(rng, world.merchant_mcc[merchant], scale=2.5),
        device=rogue_devices[rng.integers(0, rogue_devices.size, m)],
        ip=world.roles.fraud_ips[rng.integers(0, world.roles.fraud_ips.size, m)],
        p_decline=0.15,
        label=FRAUD,
        subtype=SUBTYPE_CASHOUT,
        campaign=inst[source],
    )
    return concat_flows([probes, cashouts])

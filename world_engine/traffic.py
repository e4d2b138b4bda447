"""Legitimate card traffic and every flow's follow-ups (clearing, reversal, refund).

This module owns ordinary customer behaviour. Each day, a Poisson number of authorisations is
spread over cards by their activity weight; most go to one of the customer's regular merchants,
the rest by merchant popularity. The merchant decides the channel (card-present, online, or both
with its online share); online rows carry one of the customer's own devices and an IP that fits
the device (home broadband, the carrier's CGNAT pool, public Wi-Fi, sometimes a VPN).

:func:`follow_ups` then plays the issuer and the merchants for any batch, legitimate or not:
the issuer declines some requests (no clearing), merchants reverse a few approved ones within
minutes or hours (no clearing), the rest clear 2 h-5 days later (fuel pre-authorisations clear
the real amount, restaurant tips and hotel adjustments change it), and some cleared purchases
are refunded 1 h-60 days after clearing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from world_engine.amounts import FUEL_PREAUTH_MINOR, fuel_preauth, sample_amounts
from world_engine.arrivals import DAY_US, day_volume, is_weekend, sample_times
from world_engine.catalog import ENTRY_MODES, MCCS, mcc_index
from world_engine.entities import REGULAR_SLOTS, World
from world_engine.flows import FlowBatch, make_flows
from world_engine.params import WorldParams
from world_engine.rng import stream

__all__ = [
    "CLEARING_DELAY_RANGE_US",
    "REFUND_DELAY_RANGE_US",
    "REVERSAL_DELAY_RANGE_US",
    "REVERSAL_REASONS",
    "FollowUps",
    "follow_ups",
    "legit_day",
]

REVERSAL_REASONS = ("merchant_cancel", "system_timeout")
_MINUTE_US = 60_000_000
_HOUR_US = 60 * _MINUTE_US
REVERSAL_DELAY_RANGE_US = (10_000_000, 24 * _HOUR_US)
CLEARING_DELAY_RANGE_US = (2 * _HOUR_US, 5 * DAY_US)
REFUND_DELAY_RANGE_US = (_HOUR_US, 60 * DAY_US)
"""Refund delay after clearing."""

_CHIP, _CONTACTLESS, _MAGSTRIPE, _KEYED, _ECOM, _COF = range(len(ENTRY_MODES))
_RECURRING = np.array([m.recurring for m in MCCS])
_REFUND_RATE = np.array([m.refund_rate for m in MCCS])
_REVERSAL_RATE = np.array([m.reversal_rate for m in MCCS])
_RESTAURANT, _HOTEL = mcc_index("5812"), mcc_index("7011")
_QUASI_CASH = np.isin(np.arange(len(MCCS)), [mcc_index("6051"), mcc_index("4829")])


def _online_ip(
    world: World, rng: np.random.Generator, customer: np.ndarray, device: np.ndarray
) -> np.ndarray:
    """An IP that fits the device: phones roam on carrier CGNAT, computers sit at home."""
    n = customer.shape[0]
    u = rng.random(n)
    mobile = world.device_type[device] == 0
    carrier = world.carrier[customer]
    carrier_ip = world.carrier_ip_start[carrier] + (
        rng.random(n) * world.carrier_ip_count[carrier]
    ).astype(np.int64)
    wifi = world.wifi_ips[rng.integers(0, world.wifi_ips.size, n)]
    vpn = world.vpn_ips[rng.integers(0, world.vpn_ips.size, n)]
    home = world.home_ip[customer]
    on_mobile = np.where(
        u < 0.55, carrier_ip, np.where(u < 0.93, home, np.where(u < 0.985, wifi, vpn))
    )
    on_desk = np.where(u < 0.85, home, np.where(u < 0.975, wifi, vpn))
    return np.where(mobile, on_mobile, on_desk)


def legit_day(world: World, params: WorldParams, seed: int, day: int) -> FlowBatch:
    """Legitimate authorisations of day index ``day`` (unsorted)."""
    rng = stream(seed, "traffic.legit", day)
    n = day_volume(rng, params.spec.auths_per_day, params.start_date, day)
    card = np.searchsorted(world.card_cum_weight, rng.random(n), side="right")
    card = np.minimum(card, world.n_card_rows - 1)
    customer = world.card_customer[card]
    regular = world.regulars[customer, rng.integers(0, REGULAR_SLOTS, n)]
    popular = np.searchsorted(world.merchant_cum_pop, rng.random(n), side="right")
    merchant = np.where(
        rng.random(n) < 0.65, regular, np.minimum(popular, world.merchant_mcc.size - 1)
    )
    mcc = world.merchant_mcc[merchant]
    mode = world.merchant_mode[merchant]
    online = (mode == 1) | ((mode == 2) & (rng.random(n) < world.merchant_online_share[merchant]))
    channel = online.astype(np.int8)

    u = rng.random(n)
    present_mode = np.where(
        u < 0.66, _CHIP, np.where(u < 0.96, _CONTACTLESS, np.where(u < 0.99, _MAGSTRIPE, _KEYED))
    )
    stored = rng.random(n) < np.where(_RECURRING[mcc], 0.85, 0.15)
    entry_mode = np.where(online, np.where(stored, _COF, _ECOM), present_mode)

    slot = (rng.random(n) * world.devices_per_customer[customer]).astype(np.int64)
    device = world.devices[customer, slot]
    ip = _online_ip(world, rng, customer, device)

    ts_us = sample_times(
        rng,
        params.start_epoch_micros + day * DAY_US,
        is_weekend(params.start_date, day),
        channel,
    )
    amount = sample_amounts(rng, mcc)
    clear_amount = amount.copy()
    preauth = fuel_preauth(rng, mcc) & ~online
    amount = np.where(preauth, FUEL_PREAUTH_MINOR, amount)
    clear_amount = np.where(preauth, np.minimum(clear_amount, FUEL_PREAUTH_MINOR), clear_amount)
    tip = (mcc == _RESTAURANT) & ~online & (rng.random(n) < 0.4)
    clear_amount = np.where(tip, np.round(clear_amount * (1 + 0.2 * rng.random(n))), clear_amount)
    adjust = (mcc == _HOTEL) & (rng.random(n) < 0.3)
    clear_amount = np.where(
        adjust, np.round(clear_amount * (0.9 + 0.25 * rng.random(n))), clear_amount
    )

    p_decline = 0.018 + 0.04 * (amount > 100_000) + 0.03 * _QUASI_CASH[mcc]
    return make_flows(
        world,
        ts_us=ts_us,
        card=card,
        merchant=merchant,
        channel=channel,
        entry_mode=entry_mode,
        amount_minor=amount,
        device=device,
        ip=ip,
        clear_amount_minor=clear_amount.astype(np.int64),
        p_decline=p_decline,
        p_reversal=_REVERSAL_RATE[mcc],
        p_refund=_REFUND_RATE[mcc],
    )


@dataclass(frozen=True, slots=True)
class FollowUps:
    """What happened after each authorisation of a batch (row indices into the batch)."""

    approved: np.ndarray  # bool per row
    reversal_rows: np.ndarray
    reversal_ts_us: np.ndarray
    reversal_reason: np.ndarray
    clearing_rows: np.ndarray
    clearing_ts_us: np.ndarray
    refund_rows: np.ndarray
    refund_ts_us: np.ndarray
    refund_amount_minor: np.ndarray

    @property
    def cleared(self) -> np.ndarray:
        """Bool per row: the flow was cleared (approved and not reversed)."""
        mask = np.zeros(self.approved.shape[0], dtype=bool)
        mask[self.clearing_rows] = True
        return mask


def _lognormal_delay(
    rng: np.random.Generator, n: int, median_us: float, sigma: float, bounds: tuple[int, int]
) -> np.ndarray:
    delay = median_us * np.exp(sigma * rng.standard_normal(n))
    return np.clip(delay, bounds[0], bounds[1]).astype(np.int64)


def follow_ups(batch: FlowBatch, rng: np.random.Generator) -> FollowUps:
    """Issuer outcome, reversals, clearings and refunds for every row of ``batch``."""
    n = len(batch)
    approved = rng.random(n) >= batch.p_decline
    reversed_ = approved & (rng.random(n) < batch.p_reversal)
    reversal_rows = np.flatnonzero(reversed_)
    timeout = rng.random(reversal_rows.size) < 0.3
    reversal_delay = np.where(
        timeout,
        _lognormal_delay(rng, reversal_rows.size, 40e6, 0.6, REVERSAL_DELAY_RANGE_US),
        _lognormal_delay(rng, reversal_rows.size, 25 * _MINUTE_US, 1.2, REVERSAL_DELAY_RANGE_US),
    )

    clearing_rows = np.flatnonzero(approved & ~reversed_)
    online = batch.channel[clearing_rows] == 1
    clearing_delay = _lognormal_delay(
        rng, clearing_rows.size, 20 * _HOUR_US, 0.5, CLEARING_DELAY_RANGE_US
    )
    clearing_delay = np.where(
        online, np.clip(clearing_delay * 1.4, *CLEARING_DELAY_RANGE_US), clearing_delay
    ).astype(np.int64)
    clearing_ts = batch.ts_us[clearing_rows] + clearing_delay

    refunded = rng.random(clearing_rows.size) < batch.p_refund[clearing_rows]
    refund_rows = clearing_rows[refunded]
    fast = batch.fast_refund[refund_rows]
    refund_delay = np.where(
        fast,
        _lognormal_delay(rng, refund_rows.size, 3 * DAY_US, 0.6, (_HOUR_US, 21 * DAY_US)),
        _lognormal_delay(rng, refund_rows.size, 6 * DAY_US, 0.8, REFUND_DELAY_RANGE_US),
    )
    cleared_amount = batch.clear_amount_minor[refund_rows]
    partial = rng.random(refund_rows.size) < 0.3
    fraction = 0.2 + 0.7 * rng.random(refund_rows.size)
    refund_amount = np.where(
        partial, np.maximum(50, np.round(cleared_amount * fraction)), cleared_amount
    ).astype(np.int64)
    return FollowUps(
        approved=approved,
        reversal_rows=reversal_rows,
        reversal_ts_us=batch.ts_us[reversal_rows] + reversal_delay,
        reversal_reason=timeout.astype(np.int8),
        clearing_rows=clearing_rows,
        clearing_ts_us=clearing_ts,
        refund_rows=refund_rows,
        refund_ts_us=clearing_ts[refunded] + refund_delay,
        refund_amount_minor=np.minimum(refund_amount, cleared_amount),
    )

"""Authorisation flows as numpy columns: the unit every traffic, campaign and label step shares.

This module owns :class:`FlowBatch`, one row per authorisation request with its entities, money,
channel, the engine's behaviour knobs for follow-ups (decline, reversal and refund propensity) and
its truth codes. Generators build batches with :func:`make_flows`, which derives the account,
customer, MCC, merchant country and currency from the card and the merchant so that a row is
always internally consistent. Batches are concatenated, sorted and indexed, never mutated.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from world_engine.catalog import COUNTRY_CURRENCY
from world_engine.entities import World
from world_engine.truth import LEGIT, SUBTYPE_NONE

__all__ = ["FlowBatch", "concat_flows", "make_flows"]


@dataclass(frozen=True, slots=True)
class FlowBatch:
    """Parallel columns of authorisation flows (device/ip -1 = null, campaign -1 = none)."""

    ts_us: np.ndarray
    card: np.ndarray
    account: np.ndarray
    customer: np.ndarray
    device: np.ndarray
    ip: np.ndarray
    merchant: np.ndarray
    mcc: np.ndarray
    merchant_country: np.ndarray
    channel: np.ndarray
    entry_mode: np.ndarray
    amount_minor: np.ndarray
    clear_amount_minor: np.ndarray
    currency: np.ndarray
    p_decline: np.ndarray
    p_reversal: np.ndarray
    p_refund: np.ndarray
    fast_refund: np.ndarray
    label: np.ndarray
    subtype: np.ndarray
    campaign: np.ndarray

    def __len__(self) -> int:
        return int(self.ts_us.shape[0])

    def take(self, index: np.ndarray) -> FlowBatch:
        """Rows at ``index`` (an index array or boolean mask), in that order."""
        return FlowBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def sorted_by_time(self) -> FlowBatch:
        """Rows in event-time order; ties keep their current order (stable)."""
        return self.take(np.argsort(self.ts_us, kind="stable"))


def concat_flows(batches: list[FlowBatch]) -> FlowBatch:
    """One batch holding the rows of ``batches`` in order."""
    return FlowBatch(
        **{f.name: np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(FlowBatch)}
    )


def make_flows(
    world: World,
    *,
    ts_us: np.ndarray,
    card: np.ndarray,
    merchant: np.ndarray,
    channel: np.ndarray,
    entry_mode: np.ndarray,
    amount_minor: np.ndarray,
    device: np.ndarray | None = None,
    ip: np.ndarray | None = None,
    clear_amount_minor: np.ndarray | None = None,
    p_decline: np.ndarray | float = 0.02,
    p_reversal: np.ndarray | float = 0.0,
    p_refund: np.ndarray | float = 0.0,
    fast_refund: bool = False,
    label: int = LEGIT,
    subtype: int = SUBTYPE_NONE,
    campaign: np.ndarray | None = None,
) -> FlowBatch:
    """Build a consistent batch: account, customer, MCC, country and currency are derived.

    Card-present rows (``channel == 0``) never carry a device or an IP, whatever is passed.
    """
    n = ts_us.shape[0]
    online = channel == 1
    minus = np.full(n, -1, dtype=np.int64)
    device = np.where(online, minus if device is None else device, -1)
    ip = np.where(online, minus if ip is None else ip, -1)
    country = world.merchant_country[merchant]

    def full(value: np.ndarray | float) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()

    return FlowBatch(
        ts_us=ts_us.astype(np.int64),
        card=card.astype(np.int64),
        account=world.card_account[card].astype(np.int64),
        customer=world.card_customer[card].astype(np.int64),
        device=device.astype(np.int64),
        ip=ip.astype(np.int64),
        merchant=merchant.astype(np.int64),
        mcc=world.merchant_mcc[merchant],
        merchant_country=country,
        channel=channel.astype(np.int8),
        entry_mode=entry_mode.astype(np.int8),
        amount_minor=amount_minor.astype(np.int64),
        clear_amount_minor=(
            amount_minor if clear_amount_minor is None else clear_amount_minor
        ).astype(np.int64),
        currency=COUNTRY_CURRENCY[country],
        p_decline=full(p_decline),
        p_reversal=full(p_reversal),
        p_refund=full(p_refund),
        fast_refund=np.full(n, fast_refund),
        label=np.full(n, label, dtype=np.int8),
        subtype=np.full(n, subtype, dtype=np.int8),
        campaign=(np.full(n, -1) if campaign is None else campaign).astype(np.int32),
    )

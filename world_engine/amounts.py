"""How much: authorisation amounts in integer minor units, by merchant category.

This module owns the amount model. A purchase amount is lognormal around its category's median
(``catalog.MCCS``); a category-specific share is snapped to a price point (``x.99``, a whole
amount, a multiple of 5), and subscription services charge list prices. Automated fuel
dispensers authorise a fixed pre-authorisation and clear the real amount later
(:func:`fuel_preauth`). All currencies of the world have two decimals; amounts never go below
0.50 or above 25 000.00.
"""

from __future__ import annotations

import numpy as np

from world_engine.catalog import MCCS, mcc_index

__all__ = [
    "FUEL_PREAUTH_MINOR",
    "MAX_MINOR",
    "MIN_MINOR",
    "fuel_preauth",
    "round_amounts",
    "sample_amounts",
]

MIN_MINOR = 50
MAX_MINOR = 2_500_000
FUEL_PREAUTH_MINOR = 10_000
"""UK pay-at-pump pre-authorisation (100.00)."""

_MU = np.log(np.array([m.median_major for m in MCCS]))
_SIGMA = np.array([m.sigma for m in MCCS])
_PRICE_POINT = np.array([m.price_point_share for m in MCCS])
_STREAMING = mcc_index("4899")
_FUEL = mcc_index("5542")
_LIST_PRICES = np.array([599, 899, 1099, 1299, 1599, 1799])


def sample_amounts(rng: np.random.Generator, mcc: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Purchase amounts (int64 minor units) for rows with category codes ``mcc``.

    Args:
        scale: multiplies the median (campaigns buy bigger baskets than usual).
    """
    n = mcc.shape[0]
    major = np.exp(_MU[mcc] + _SIGMA[mcc] * rng.standard_normal(n)) * scale
    snap = rng.random(n) < _PRICE_POINT[mcc]
    kind = rng.random(n)
    whole = np.floor(major)
    snapped = np.where(
        kind < 0.5,
        whole + 0.99,
        np.where((kind < 0.8) | (major < 20), np.maximum(whole, 1.0), np.round(major / 5) * 5),
    )
    major = np.where(snap, snapped, major)
    minor = np.round(major * 100).astype(np.int64)
    streaming = mcc == _STREAMING
    minor[streaming] = _LIST_PRICES[rng.integers(0, _LIST_PRICES.size, int(streaming.sum()))]
    return np.clip(minor, MIN_MINOR, MAX_MINOR)


def fuel_preauth(rng: np.random.Generator, mcc: np.ndarray) -> np.ndarray:
    """Which rows are pay-at-pump pre-authorisations (auth 100.00, clearing the real amount)."""
    return (mcc == _FUEL) & (rng.random(mcc.shape[0]) < 0.7)


def round_amounts(
    rng: np.random.Generator, n: int, low_major: int, high_major: int, step_major: int
) -> np.ndarray:
    """``n`` round amounts (multiples of ``step_major``) between the bounds, in minor units."""
    steps = rng.integers(low_major // step_major, high_major // step_major + 1, n)
    return (np.maximum(steps, 1) * step_major * 100).astype(np.int64)

"""Closed vocabularies and the merchant category (MCC) table of the synthetic bank world.

This module owns every categorical value the engine writes: the engine computes with small
integer codes and turns them into these strings only when it builds Arrow tables. The strings are
the wire values of the outputs (see the interface pack), so they may be added to, never renamed.
The MCC table carries, per category, its share of legitimate traffic, how online it is, the
lognormal amount model (median in major units, sigma, price-point share) and its follow-up rates
(refunds, reversals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CHANNELS",
    "COUNTRIES",
    "COUNTRY_CURRENCY",
    "CURRENCIES",
    "DEVICE_TYPES",
    "ENTRY_MODES",
    "IP_KINDS",
    "MCCS",
    "MERCHANT_MODES",
    "OPERATING_SYSTEMS",
    "RISK_TIERS",
    "SEGMENTS",
    "Mcc",
    "code_of",
    "mcc_index",
]

CHANNELS = ("card_present", "online")
ENTRY_MODES = ("chip", "contactless", "magstripe", "keyed", "ecommerce", "card_on_file")
COUNTRIES = ("GB", "IE", "FR", "DE", "NL", "ES", "US")
CURRENCIES = ("GBP", "EUR", "USD")
COUNTRY_CURRENCY = np.array([0, 1, 1, 1, 1, 1, 2], dtype=np.int8)
"""Currency code of each country code (index into CURRENCIES); every currency has 2 decimals."""
DEVICE_TYPES = ("mobile", "desktop", "tablet")
OPERATING_SYSTEMS = ("ios", "android", "windows", "macos", "linux")
IP_KINDS = ("residential", "mobile_carrier", "public_wifi", "vpn_proxy", "datacenter")
MERCHANT_MODES = ("card_present", "online", "omni")
RISK_TIERS = ("low", "medium", "high")
SEGMENTS = ("mass", "affluent", "student", "senior")


def code_of(vocab: tuple[str, ...], value: str) -> int:
    """Integer code of ``value`` in ``vocab`` (a programming error if absent)."""
    return vocab.index(value)


@dataclass(frozen=True, slots=True)
class Mcc:
    """One merchant category and its traffic, amount and follow-up model."""

    code: str
    description: str
    traffic_weight: float
    """Relative share of legitimate authorisations."""
    online_share: float
    """Share of the category's authorisations made online (card not present)."""
    median_major: float
    """Median amount in major currency units (lognormal)."""
    sigma: float
    """Lognormal sigma of the amount."""
    price_point_share: float
    """Share of amounts snapped to a price point (x.99, whole, multiples of 5)."""
    risk_tier: int
    """The bank's prior risk tier of the category (index into RISK_TIERS)."""
    refund_rate: float
    """Share of cleared legitimate purchases refunded later."""
    reversal_rate: float
    """Share of approved legitimate authorisations reversed shortly after."""
    recurring: bool = False
    """Online purchases are mostly card-on-file (subscriptions)."""


MCCS: tuple[Mcc, ...] = (
    Mcc("5411", "grocery_stores", 0.20, 0.08, 24.0, 0.80, 0.10, 0, 0.004, 0.004),
    Mcc("5812", "restaurants", 0.08, 0.05, 28.0, 0.60, 0.10, 0, 0.002, 0.006),
    Mcc("5814", "fast_food", 0.09, 0.15, 9.0, 0.50, 0.20, 0, 0.002, 0.004),
    Mcc("5542", "automated_fuel", 0.06, 0.00, 55.0, 0.45, 0.05, 0, 0.001, 0.010),
    Mcc("5311", "department_stores", 0.05, 0.35, 45.0, 0.90, 0.30, 0, 0.030, 0.004),
    Mcc("5651", "family_clothing", 0.05, 0.45, 55.0, 0.80, 0.40, 0, 0.060, 0.004),
    Mcc("5732", "electronics", 0.025, 0.55, 120.0, 1.00, 0.50, 1, 0.040, 0.006),
    Mcc("5999", "misc_retail", 0.07, 0.50, 30.0, 1.00, 0.30, 0, 0.030, 0.004),
    Mcc("5912", "drug_stores", 0.04, 0.10, 15.0, 0.70, 0.20, 0, 0.004, 0.003),
    Mcc("5815", "digital_media", 0.04, 1.00, 6.0, 0.70, 0.80, 1, 0.010, 0.003),
    Mcc("5816", "digital_games", 0.02, 1.00, 10.0, 0.90, 0.70, 1, 0.010, 0.003),
    Mcc("4899", "streaming_services", 0.04, 1.00, 11.0, 0.30, 0.95, 0, 0.003, 0.002, True),
    Mcc("5968", "subscriptions", 0.02, 1.00, 14.0, 0.50, 0.90, 0, 0.005, 0.002, True),
    Mcc("4121", "taxis_rideshare", 0.05, 0.70, 14.0, 0.60, 0.05, 0, 0.005, 0.010),
    Mcc("4111", "transit", 0.05, 0.15, 4.0, 0.50, 0.30, 0, 0.002, 0.004),
    Mcc("4511", "airlines", 0.008, 0.85, 220.0, 0.80, 0.40, 1, 0.030, 0.010),
    Mcc("7011", "hotels", 0.01, 0.50, 180.0, 0.70, 0.20, 0, 0.020, 0.030),
    Mcc("4722", "travel_agencies", 0.007, 0.90, 350.0, 0.90, 0.40, 1, 0.030, 0.010),
    Mcc("5944", "jewelry", 0.004, 0.25, 250.0, 1.00, 0.50, 1, 0.020, 0.004),
    Mcc("5947", "gift_card_shops", 0.015, 0.35, 30.0, 0.70, 0.70, 1, 0.010, 0.004),
    Mcc("4829", "money_transfer", 0.006, 0.90, 150.0, 1.00, 0.60, 2, 0.002, 0.004),
    Mcc("6051", "quasi_cash_crypto", 0.004, 1.00, 200.0, 1.00, 0.60, 2, 0.002, 0.004),
    Mcc("8398", "charities", 0.008, 0.90, 15.0, 0.80, 0.80, 1, 0.001, 0.002),
    Mcc("7995", "gambling", 0.012, 0.90, 25.0, 1.00, 0.70, 2, 0.001, 0.004),
)
"""The categories, in a fixed order (their index is the engine's MCC code)."""


def mcc_index(code: str) -> int:
    """Index of an MCC code in :data:`MCCS`."""
    for i, mcc in enumerate(MCCS):
        if mcc.code == code:
            return i
    raise KeyError(code)

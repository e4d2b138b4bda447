"""When things happen: weekly volume factors and diurnal arrival intensity (UTC).

This module owns event-time sampling for authorisations. A day's volume is Poisson around the
scale's mean times a weekday factor (Friday and Saturday busy, Sunday quiet); each row's time of
day comes from an hourly intensity profile: card-present spend peaks at lunch and early evening,
online spend in the evening, and fraud tooling runs at night as well (``NIGHT``). Within an hour
the time is uniform at microsecond resolution. The world's bank is in the UK, so UTC is close to
local time (DST is ignored).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = [
    "CARD_PRESENT",
    "DAY_US",
    "HOUR_US",
    "NIGHT",
    "ONLINE",
    "WEEKDAY_FACTOR",
    "day_volume",
    "expected_auths",
    "is_weekend",
    "sample_times",
]

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000

_WEEK = np.array([0.95, 0.97, 1.00, 1.02, 1.12, 1.10, 0.84])
WEEKDAY_FACTOR = _WEEK / _WEEK.mean()
"""Volume factor by ISO weekday Monday..Sunday (mean 1)."""

CARD_PRESENT, ONLINE, NIGHT = 0, 1, 2
"""Profile codes for :func:`sample_times` (CARD_PRESENT and ONLINE match the channel codes)."""

# Relative intensity by UTC hour 00..23 (one row per profile: CARD_PRESENT, ONLINE, NIGHT).
# fmt: off
_HOURLY = np.array([
    [0.4, 0.2, 0.1, 0.1, 0.1, 0.3, 1.0, 2.6, 4.0, 4.6, 5.4, 6.6,
     8.2, 7.4, 6.0, 5.8, 6.4, 7.6, 7.4, 6.0, 4.2, 2.8, 1.6, 0.9],
    [1.4, 0.8, 0.5, 0.4, 0.4, 0.6, 1.2, 2.2, 3.0, 3.6, 4.0, 4.4,
     5.0, 5.0, 4.6, 4.6, 4.8, 5.2, 6.0, 7.2, 8.2, 8.0, 6.2, 3.4],
    [4.0, 6.0, 7.0, 7.0, 6.0, 4.0, 2.0, 1.5, 1.5, 2.0, 2.5, 2.5,
     2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 3.0, 3.0, 3.0, 3.0, 3.5, 3.5],
])
# fmt: on
_WEEKEND_SHIFT = np.array([1.3, 1.5, 1.2] + [1.0] * 4 + [0.4, 0.6, 0.9] + [1.1] * 14)
"""Weekends start later and run later: applied to the card-present and online profiles."""


def _cumulative(weekend: bool) -> np.ndarray:
    hourly = _HOURLY.copy()
    if weekend:
        hourly[:2] *= _WEEKEND_SHIFT
    return np.cumsum(hourly, axis=1) / hourly.sum(axis=1, keepdims=True)


_CUM = {False: _cumulative(False), True: _cumulative(True)}


def _weekday(start_date: dt.date, day: int) -> int:
    return (start_date + dt.timedelta(days=day)).weekday()


def expected_auths(auths_per_day: float, start_date: dt.date, days: int) -> float:
    """Expected legitimate authorisations over the horizon (sum of the weekday-scaled means)."""
    return float(sum(auths_per_day * WEEKDAY_FACTOR[_weekday(start_date, d)] for d in range(days)))


def day_volume(
    rng: np.random.Generator, auths_per_day: float, start_date: dt.date, day: int
) -> int:
    """Poisson volume of legitimate authorisations on day index ``day``."""
    return int(rng.poisson(auths_per_day * WEEKDAY_FACTOR[_weekday(start_date, day)]))


def sample_times(
    rng: np.random.Generator,
    day_start_us: int,
    weekend: bool,
    profile: np.ndarray,
) -> np.ndarray:
    """Epoch microseconds within one UTC day, one per row, following each row's ``profile``.

    Args:
        day_start_us: epoch microseconds of the day's 00:00:00Z.
        profile: per-row profile code (CARD_PRESENT, ONLINE or NIGHT).
    """
    cum = _CUM[weekend]
    u = rng.random(profile.shape[0])
    hour = np.empty(profile.shape[0], dtype=np.int64)
    for code in range(cum.shape[0]):
        rows = profile == code
        hour[rows] = np.searchsorted(cum[code], u[rows], side="right")
    hour = np.minimum(hour, 23)
    within = rng.integers(0, HOUR_US, profile.shape[0], dtype=np.int64)
    return day_start_us + hour * HOUR_US + within


def is_weekend(start_date: dt.date, day: int) -> bool:
    """Whether day index ``day`` is a Saturday or Sunday."""
    return _weekday(start_date, day) >= 5

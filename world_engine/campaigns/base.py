"""Shared tools of the campaign generators: the time horizon, instance sets and per-row picks.

This module owns how a campaign *instance* (one card-testing burst, one takeover, one mule ring…)
is laid out: which day it starts, which small set of entities it reuses (the reuse is the graph
and velocity signal), and how each of its rows picks from that set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from world_engine.arrivals import DAY_US, sample_times

__all__ = ["MINUTE_US", "Horizon", "choose_sets", "day_times", "per_row", "start_days"]

MINUTE_US = 60_000_000


@dataclass(frozen=True, slots=True)
class Horizon:
    """The authorisation window of the world: ``days`` UTC days from ``start_us``."""

    start_us: int
    days: int
    start_date: dt.date

    @property
    def end_us(self) -> int:
        return self.start_us + self.days * DAY_US


def start_days(rng: np.random.Generator, horizon: Horizon, k: int, span_days: int) -> np.ndarray:
    """First day index of ``k`` instances that last ``span_days``, kept inside when they fit."""
    return rng.integers(0, max(1, horizon.days - span_days + 1), k)


def day_times(
    rng: np.random.Generator, horizon: Horizon, day: np.ndarray, night_share: float, online: bool
) -> np.ndarray:
    """Epoch micros on day indices ``day``; a ``night_share`` of rows follow the night profile."""
    profile = np.where(rng.random(day.shape[0]) < night_share, 2, 1 if online else 0)
    time_of_day = sample_times(rng, 0, False, profile)
    return horizon.start_us + day.astype(np.int64) * DAY_US + time_of_day


def choose_sets(
    rng: np.random.Generator, pool: np.ndarray, k: int, low: int, high: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``k`` instances, ``low..high`` members of ``pool``: (k x high matrix, counts)."""
    counts = rng.integers(low, high + 1, k)
    members = pool[rng.integers(0, pool.size, (k, high))]
    return members, counts


def per_row(
    rng: np.random.Generator, members: np.ndarray, counts: np.ndarray, instance: np.ndarray
) -> np.ndarray:
    """For each row, one member of its instance's set."""
    slot = (rng.random(instance.shape[0]) * counts[instance]).astype(np.int64)
    return members[instance, slot]

"""Speedup pacing: when, on the wall clock, an event of world time ``t`` may be emitted.

This module keeps the four-clocks rail: speedup compresses *wall-clock gaps* between emissions
and nothing else; ``ts_utc`` is never read back from, nor written by, pacing. ``speedup`` is the
policy knob: 0 = as fast as possible (never sleeps), 1 = real time, 60 = one world hour per wall
minute. An event of world time ``t`` is due ``(t - t0) / speedup`` wall seconds after the first
event (world time ``t0``) was paced. Late events (the producer fell behind) go at once: pacing
never emits faster than that schedule and never sleeps to "catch up" backwards.

:class:`RatePacer` paces by row count instead (``policy.streaming.rows_per_s``): row n is due
n / rate wall seconds after the first, whatever its world time, for a known and even offered
load.

The clocks are injected (a monotonic clock in seconds and an async sleep), so tests drive time.
After a restart the schedule re-anchors at the first event paced by the new process.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from app.rails.errors import ContractError

__all__ = ["Monotonic", "Pacer", "RatePacer", "Sleep", "check_speedup", "pacer_for",
           "wall_offset_seconds"]

Monotonic = Callable[[], float]
"""A monotonic clock in seconds (``time.monotonic`` or ``loop.time`` in production)."""

Sleep = Callable[[float], Awaitable[None]]
"""An async sleep in seconds (``asyncio.sleep`` in production)."""


def check_speedup(speedup: float) -> float:
    """``speedup`` as a float if it is finite and >= 0.

    Raises:
        ContractError: negative, NaN, infinite or not a number (reason SPEEDUP_INVALID).
    """
    if isinstance(speedup, bool) or not isinstance(speedup, int | float) or not (
        math.isfinite(speedup) and speedup >= 0
    ):
        raise ContractError(f"pacing: speedup must be a finite number >= 0, got {speedup!r}",
                            reason_code="SPEEDUP_INVALID")
    return float(speedup)


def wall_offset_seconds(event_time_micros: int, anchor_time_micros: int, speedup: float) -> float:
    """Wall seconds after the anchor at which an event of world time ``event_time_micros`` is due.

    0 for speedup 0 (as fast as possible) and for events at or before the anchor.
    """
    if check_speedup(speedup) == 0 or event_time_micros <= anchor_time_micros:
        return 0.0
    return (event_time_micros - anchor_time_micros) / 1_000_000 / speedup


class Pacer:
    """Awaits each event's due time on an injected clock (one Pacer per merged stream)."""

    def __init__(self, speedup: float, *, monotonic: Monotonic, sleep: Sleep,
                 first_event_micros: int | None = None) -> None:
        """
        Args:
            speedup: world seconds per wall second; 0 = never sleep.
            monotonic: wall clock for scheduling (seconds, monotonic).
            sleep: async sleep used to wait.
            first_event_micros: world time ``t0`` of the schedule; default: the first event paced.
        """
        self.speedup = check_speedup(speedup)
        self._monotonic = monotonic
        self._sleep = sleep
        self._anchor_micros = first_event_micros
        self._anchor_wall: float | None = None

    @property
    def paced(self) -> bool:
        """Whether it ever sleeps (speedup 0 never does)."""
        return self.speedup > 0

    def due_at(self, event_time_micros: int) -> float:
        """Monotonic time at which the event is due (anchors the schedule on first use)."""
        if self._anchor_micros is None:
            self._anchor_micros = event_time_micros
        if self._anchor_wall is None:
            self._anchor_wall = self._monotonic()
        return self._anchor_wall + wall_offset_seconds(event_time_micros, self._anchor_micros,
                                                       self.speedup)

    def delay(self, event_time_micros: int) -> float:
        """Seconds :meth:`wait_until_due` would sleep now (0 when due or speedup 0): WSP
        announces its progress before a long sleep (``app.wsp.progress``)."""
        if self.speedup == 0:
            return 0.0
        return max(0.0, self.due_at(event_time_micros) - self._monotonic())

    async def wait_until_due(self, event_time_micros: int) -> float:
        """Sleep until the event is due; returns the seconds slept (0 when due or speedup 0)."""
        delay = self.delay(event_time_micros)
        if delay <= 0:
            return 0.0
        await self._sleep(delay)
        return delay


class RatePacer:
    """Awaits row n's due time, ``n / rows_per_s`` after the first row (the same interface as
    :class:`Pacer`; the world time passed in is not read)."""

    def __init__(self, rows_per_s: float, *, monotonic: Monotonic, sleep: Sleep) -> None:
        if not (math.isfinite(rows_per_s) and rows_per_s > 0):
            raise ContractError(f"pacing: rows_per_s must be a finite number > 0, got "
                                f"{rows_per_s!r}", reason_code="SPEEDUP_INVALID")
        self.rows_per_s = float(rows_per_s)
        self._monotonic = monotonic
        self._sleep = sleep
        self._anchor_wall: float | None = None
        self._rows = 0

    paced = True

    def due_at(self, event_time_micros: int) -> float:
        """Monotonic time at which the next row is due (anchors the schedule on first use)."""
        if self._anchor_wall is None:
            self._anchor_wall = self._monotonic()
        return self._anchor_wall + self._rows / self.rows_per_s

    def delay(self, event_time_micros: int) -> float:
        """Seconds :meth:`wait_until_due` would sleep now for the next row."""
        return max(0.0, self.due_at(event_time_micros) - self._monotonic())

    async def wait_until_due(self, event_time_micros: int) -> float:
        """Sleep until the next row is due, and count it; returns the seconds slept."""
        delay = self.delay(event_time_micros)
        self._rows += 1
        if delay <= 0:
            return 0.0
        await self._sleep(delay)
        return delay


def pacer_for(speedup: float, rows_per_s: float, *, monotonic: Monotonic,
              sleep: Sleep) -> Pacer | RatePacer:
    """The pacer a streaming policy asks for: a constant rate when ``rows_per_s`` > 0."""
    if rows_per_s > 0:
        return RatePacer(rows_per_s, monotonic=monotonic, sleep=sleep)
    return Pacer(speedup, monotonic=monotonic, sleep=sleep)

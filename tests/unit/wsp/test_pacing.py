"""Pacing: speedup compresses wall gaps on an injected clock; speedup 0 never sleeps."""

from __future__ import annotations

import math

import pytest

from app.rails.errors import ContractError
from app.wsp.pacing import Pacer, RatePacer, pacer_for, wall_offset_seconds

HOUR_MICROS = 3_600_000_000
T0 = 1_741_000_000_000_000  # a world time in March 2025


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def _emission_times(pacer: Pacer, clock: FakeClock, event_times: list[int],
                          work_seconds: float = 0.0) -> list[float]:
    emitted = []
    for t in event_times:
        await pacer.wait_until_due(t)
        emitted.append(clock.now)
        clock.now += work_seconds  # framing and sending take wall time too
    return emitted


def test_one_world_hour_is_one_wall_minute_at_speedup_60() -> None:
    assert wall_offset_seconds(T0 + HOUR_MICROS, T0, 60) == 60.0
    assert wall_offset_seconds(T0 + HOUR_MICROS, T0, 1) == 3600.0
    assert wall_offset_seconds(T0 + HOUR_MICROS, T0, 0) == 0.0
    assert wall_offset_seconds(T0 - HOUR_MICROS, T0, 60) == 0.0


async def test_events_an_hour_apart_are_emitted_a_minute_apart_at_speedup_60() -> None:
    clock = FakeClock()
    pacer = Pacer(60, monotonic=clock.monotonic, sleep=clock.sleep)
    emitted = await _emission_times(pacer, clock, [T0, T0 + HOUR_MICROS, T0 + 2 * HOUR_MICROS])
    assert [e - emitted[0] for e in emitted] == [0.0, 60.0, 120.0]
    assert clock.sleeps == [60.0, 60.0]


async def test_work_time_is_absorbed_not_added() -> None:
    clock = FakeClock()
    pacer = Pacer(60, monotonic=clock.monotonic, sleep=clock.sleep)
    emitted = await _emission_times(pacer, clock, [T0, T0 + HOUR_MICROS, T0 + 2 * HOUR_MICROS],
                                    work_seconds=5.0)
    assert [e - emitted[0] for e in emitted] == [0.0, 60.0, 120.0]
    assert clock.sleeps == [55.0, 55.0]


async def test_a_late_event_goes_at_once() -> None:
    clock = FakeClock()
    pacer = Pacer(60, monotonic=clock.monotonic, sleep=clock.sleep)
    await pacer.wait_until_due(T0)
    clock.now += 600  # fell ten minutes behind
    assert await pacer.wait_until_due(T0 + HOUR_MICROS) == 0.0
    assert clock.sleeps == []


async def test_speedup_zero_never_sleeps() -> None:
    async def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds}s at speedup 0")

    pacer = Pacer(0, monotonic=lambda: 0.0, sleep=no_sleep)
    for t in (T0, T0 + HOUR_MICROS, T0 + 240 * HOUR_MICROS):
        assert await pacer.wait_until_due(t) == 0.0


async def test_first_event_time_anchors_the_schedule() -> None:
    clock = FakeClock()
    pacer = Pacer(3600, monotonic=clock.monotonic, sleep=clock.sleep,
                  first_event_micros=T0 - HOUR_MICROS)
    await pacer.wait_until_due(T0)
    assert clock.sleeps == [1.0]


def test_due_at_is_pure_arithmetic_on_the_anchor() -> None:
    clock = FakeClock(now=50.0)
    pacer = Pacer(120, monotonic=clock.monotonic, sleep=clock.sleep)
    assert pacer.due_at(T0) == 50.0
    clock.now = 99.0
    assert pacer.due_at(T0 + HOUR_MICROS) == 80.0


@pytest.mark.parametrize("speedup", [-1, math.nan, math.inf, True, "60"])
def test_an_invalid_speedup_is_refused(speedup: object) -> None:
    with pytest.raises(ContractError) as caught:
        Pacer(speedup, monotonic=lambda: 0.0, sleep=FakeClock().sleep)  # type: ignore[arg-type]
    assert caught.value.reason_code == "SPEEDUP_INVALID"


async def test_a_rate_pacer_spaces_rows_evenly_whatever_their_world_time() -> None:
    clock = FakeClock()
    pacer = pacer_for(60, 100, monotonic=clock.monotonic, sleep=clock.sleep)
    assert isinstance(pacer, RatePacer) and pacer.paced
    for world in (T0, T0, T0 + 5 * HOUR_MICROS, T0 + 5 * HOUR_MICROS + 1):
        await pacer.wait_until_due(world)
    assert clock.sleeps == pytest.approx([0.01, 0.01, 0.01])  # row 0 at once, then 1/100 s each
    clock.now += 1.0  # fell behind: the next rows go at once, no catching up backwards
    assert await pacer.wait_until_due(T0) == 0.0
    assert pacer.delay(T0) == 0.0


def test_speedup_pacing_unless_a_rate_is_asked_for_and_a_bad_rate_is_refused() -> None:
    clock = FakeClock()
    assert isinstance(pacer_for(60, 0, monotonic=clock.monotonic, sleep=clock.sleep), Pacer)
    assert not Pacer(0, monotonic=clock.monotonic, sleep=clock.sleep).paced
    for bad in (math.inf, math.nan, -1.0):
        with pytest.raises(ContractError):
            RatePacer(bad, monotonic=clock.monotonic, sleep=clock.sleep)

"""Fallback watermarks for producers that send no progress (HTTP pushes; issue #12)."""

from __future__ import annotations

from app.ig.watermarks import UNSTAMPED_IDLE_S, UNSTAMPED_LAG_US, ProgressTracker
from app.rails.timefmt import ts_to_epoch_micros
from app.rails.watermark import encode_progress

RUN = "a" * 32
T = 1_700_000_000_000_000


def _micros(mark: object) -> int:
    return ts_to_epoch_micros(mark.watermark_ts_utc)  # type: ignore[attr-defined]


def test_a_busy_unstamped_run_lags_and_a_quiet_one_releases_everything() -> None:
    tracker = ProgressTracker(partitions=3)
    tracker.observe_unstamped(RUN, T, now_s=100.0)
    tracker.observe_unstamped(RUN, T - 5, now_s=100.5)
    busy = tracker.unstamped_due({0, 1, 2}, now_s=101.0)
    assert [(m.partition, _micros(m)) for m in busy] == [(p, T - UNSTAMPED_LAG_US)
                                                         for p in range(3)]
    tracker.written(busy)
    assert tracker.unstamped_due({0, 1, 2}, now_s=101.2) == []  # nothing advanced
    quiet = tracker.unstamped_due({0, 2}, now_s=100.5 + UNSTAMPED_IDLE_S)  # owned partitions
    assert [(m.partition, _micros(m)) for m in quiet] == [(0, T + 1), (2, T + 1)]


def test_a_run_wsp_speaks_for_gets_no_fallback() -> None:
    tracker = ProgressTracker(partitions=2)
    tracker.observe(RUN, 0, encode_progress(T - 10))
    tracker.observe_unstamped(RUN, T, now_s=0.0)
    assert tracker.unstamped_due({0, 1}, now_s=100.0) == []

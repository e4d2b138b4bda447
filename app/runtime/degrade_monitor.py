"""DL inside a worker: measure health signals, walk the ladder, stamp the posture for DF.

The ladder itself is pure (``app.dl``); this is the wall-clock side: how far behind the traffic
log the hot path is, how long since it last applied an event while work waits, the anomaly rate
of the last tick, and whether the registry resolved a bundle. DF reads :meth:`current`, which
turns a missing or stale stamp into FAIL_CLOSED (a stuck monitor never means "all is well").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.dl.ladder import DegradeLadder, PostureTransition
from app.dl.policy import DegradePolicy
from app.dl.posture_view import PostureStamp, effective_posture
from app.dl.signals import HealthSignals
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode

__all__ = ["DegradeMonitor", "pinned_context"]


def pinned_context(posture: Posture) -> tuple[Posture, tuple[str, ...]]:
    """Posture and reason codes of every decision under a pinned posture (worker and replay)."""
    named = () if posture is Posture.NORMAL else (f"POSTURE_{posture.value}",)
    return posture, (str(ReasonCode.POSTURE_PINNED), *named)


class DegradeMonitor:
    """Feed it batches (``note_batch``) and ticks (``tick``); ask it ``current()``."""

    def __init__(self, policy: DegradePolicy, *, scope: str,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.ladder = DegradeLadder(policy, scope=scope)
        self.now = now
        self.stamp: PostureStamp | None = None
        self._events = 0
        self._anomalies = 0
        self._last_progress_s = now()

    def note_batch(self, events: int, anomalies: int) -> None:
        self._events += events
        self._anomalies += anomalies
        if events:
            self._last_progress_s = self.now()

    def signals(self, *, lag_events: int | None, registry_resolved: bool | None) -> HealthSignals:
        now = self.now()
        staleness = (now - self._last_progress_s) if lag_events else 0.0
        error_rate = (self._anomalies / self._events) if self._events else None
        self._events = self._anomalies = 0
        return HealthSignals(consumer_lag_events=lag_events, feature_staleness_s=staleness,
                             registry_resolved=registry_resolved, error_rate=error_rate,
                             quarantine_rate=None)

    def tick(self, *, lag_events: int | None,
             registry_resolved: bool | None) -> PostureTransition | None:
        """Observe the signals now; the transition (if any) is for the caller to publish."""
        signals = self.signals(lag_events=lag_events, registry_resolved=registry_resolved)
        transition = self.ladder.observe(signals, self.now())
        self.stamp = PostureStamp(self.ladder.posture, self.now())
        return transition

    def current(self) -> tuple[Posture, tuple[str, ...]]:
        """The posture DF must use now, with its reason codes (missing/stale -> FAIL_CLOSED).

        A pinned posture needs no stamp: it is policy, not a measurement, and a decision made
        before the first tick must not differ from one made after it (replay determinism).
        """
        if self.policy.pinned is not None:
            return pinned_context(self.policy.pinned)
        posture, reasons = effective_posture(self.stamp, self.now(),
                                             self.policy.max_posture_age_s)
        return posture, tuple(str(r) for r in reasons)

"""A hot-path shard's event-time clock: the watermark behind eviction and the lateness judgement.

The plain clock is the max event time applied, so one event stamped 9999-12-31 moved a traffic
partition's clock thousands of years ahead: every retained event fell behind the eviction horizon
and every later trigger was judged late (``SNAPSHOT_INCOMPLETE``), for good (issue #11 item 1).
IG refuses such events now (``EVENT_TIME_IMPLAUSIBLE``); this clock is the defence in depth, so
that no single event that got past IG can move a shard's clock beyond a bound. After each event
at ``t`` (the one before it at ``t_prev``) the clock ``wm`` becomes::

    max(wm, min(t, wm + max_advance), min(t_prev, t))

- a step of at most ``max_advance`` is followed at once (dense traffic: the clock is the max);
- a larger jump is followed only as far as two consecutive events agree (``min(t_prev, t)``), so a
  legitimate gap (a quiet night, or the sparse tail of follow-ups days after the last
  authorisation) is caught up by the next event, while a lone event far ahead moves the clock by
  at most ``max_advance``, and one far behind not at all;
- the clock starts at the earlier of the first two event times (a single first event never sets
  it; before that there is no clock: nothing is evicted, nothing judged late).

It reads nothing but the sequence of applied event times, so a replay of the same offsets lands
on the same clock; the caller still applies every event at its own time (only the clock is held).
With ``max_advance`` at most the allowed lateness, a lone held event can neither make a trigger
late nor evict what a trigger within the lateness needs, and values stay exact in every case:
eviction and the lateness judgement read this same clock. A run of two or more events far ahead
does move it: IG's event-time window is the guard against those.
"""

from __future__ import annotations

__all__ = ["EventClock"]


class EventClock:
    """Watermark of one shard (epoch microseconds, ``None`` until it starts); see the module doc.

    ``held`` counts events further ahead than ``max_advance_us`` that neither of the next two
    events vouched for (came within ``max_advance_us`` of them): a lone event far ahead, judged
    two events later; ``held_max_us`` is the largest distance between such an event and the
    clock at that point. Both are a pure function of the applied sequence, so a rebuilt shard
    counts the same.
    """

    __slots__ = ("_pending", "_prev", "held", "held_max_us", "max_advance_us", "watermark_us")

    def __init__(self, max_advance_us: int) -> None:
        if type(max_advance_us) is not int or max_advance_us <= 0:
            raise ValueError(f"max_advance_us must be an int > 0, got {max_advance_us!r:.20}")
        self.max_advance_us = max_advance_us
        self.watermark_us: int | None = None
        self.held = 0
        self.held_max_us = 0
        self._prev: int | None = None
        # Events the clock left more than the bound behind, each with how many later events
        # did not vouch for it yet; an event lives here for at most two steps.
        self._pending: list[tuple[int, int]] = []

    def observe(self, ts_us: int) -> int:
        """Fold one applied event time in.

        Returns:
            1 when this judged the event applied two events earlier held, else 0.
        """
        prev, wm, bound = self._prev, self.watermark_us, self.max_advance_us
        self._prev = ts_us
        if prev is None:
            new = None
        elif wm is None:
            new = min(prev, ts_us)
        else:
            new = max(wm, min(ts_us, wm + bound), min(prev, ts_us))
        self.watermark_us = new
        judged = 0
        if self._pending:
            still: list[tuple[int, int]] = []
            for pending_us, unvouched in self._pending:
                if ts_us >= pending_us - bound:
                    continue
                if unvouched == 0:
                    still.append((pending_us, 1))
                    continue
                judged = 1
                self.held += 1
                behind_us = 0 if new is None else pending_us - new  # new is set by now
                self.held_max_us = max(self.held_max_us, behind_us)
            self._pending = still
        if new is None or ts_us - new > bound:
            self._pending.append((ts_us, 0))
        return judged

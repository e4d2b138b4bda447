"""One entity's retained event log and its window aggregates (the OFP hot loop).

Layout, chosen for pure-Python speed:

- the log is parallel, ts-sorted lists (``ts``, ``amt`` and one column per distinct-count field);
  ties keep arrival order;
- count, amount sum and sum of squares come from prefix sums over the log, so any window is a
  ``bisect`` and a few subtractions, with no per-window state;
- the max and distinct counts of a *small* window (every window of most cards, devices, ips)
  come from slices of the log, computed in C (``max``, ``set``); a window holding more than
  ``scan_max`` events gets a ``RunningWindow`` instead, moved to each trigger's time, and goes
  back to slicing when it shrinks below half that (hysteresis, so it does not flap);
- a late event is spliced into the log and, where it falls inside a running window, into it.

Eviction is logical first: ``dead`` counts the leading entries the owner has evicted (always a
prefix, because eviction is by event time), and every read starts at ``dead``, so values never
depend on when the physical ``compact()`` happens, nor on which path computed them.

Which windows, distinct columns and extras an entity has is its stream's ``StreamSpec``
(``app.ofp.layout``, derived from the feature registry), passed in by the owner on each call so
an entity holds no copy of it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Final

from app.ofp.layout import StreamSpec
from app.ofp.running_window import Columns, DistinctKeys, RunningWindow
from app.ofp.windows import amount_to_mean, amount_zscore, seconds_between
from app.rails.decision import FeatureValue

__all__ = ["SCAN_MAX_EVENTS", "EntityWindows"]

# A window with more events than this keeps running state; smaller ones are recomputed from log
# slices, which is cheaper than maintaining dicts at that size. Values never depend on it.
SCAN_MAX_EVENTS: Final = 32


Block = tuple[FeatureValue, ...]


class EntityWindows:
    """The retained log and window aggregates of one entity (e.g. one card).

    Invariant while ``wins`` is set: ``hi`` is the first live index with ``ts >= as_of``, and
    each running window covers exactly ``[win.lo, hi)``, ``win.lo`` being the first live index
    with ``ts >= as_of - w``.
    """

    __slots__ = (
        "amt",
        "as_of",
        "cols",
        "cq",
        "cs",
        "dead",
        "hi",
        "ts",
        "wins",
    )

    def __init__(self, n_dist: int, *, squares: bool) -> None:
        """Args:
        n_dist: how many distinct-count fields the entity's kind has (one log column each).
        squares: keep the sum of squared amounts (only for a z-score feature).
        """
        self.ts: list[int] = []
        self.amt: list[int] = []
        self.cols: Columns = tuple([] for _ in range(n_dist))
        # Prefix sums, one longer than the log: amount, amount squared.
        self.cs: list[int] = [0]
        self.cq: list[int] | None = [0] if squares else None
        self.dead = 0
        # Per window (longest first) its running state, or None where slices are used; the
        # list itself is None while no window runs (most entities, always).
        self.wins: list[RunningWindow | None] | None = None
        self.as_of = 0
        self.hi = 0

    def __len__(self) -> int:
        return len(self.ts)

    def insert(self, ts: int, amount: int, keys: DistinctKeys, spec: StreamSpec) -> None:
        """Add one event; O(1) when in order, O(events after it) when late."""
        tsl, cs, cq = self.ts, self.cs, self.cq
        if not tsl or ts >= tsl[-1]:
            tsl.append(ts)
            self.amt.append(amount)
            for col, k in zip(self.cols, keys, strict=False):  # lengths fixed per kind
                col.append(k)
            cs.append(cs[-1] + amount)
            if cq is not None:
                cq.append(cq[-1] + amount * amount)
        else:
            p = bisect_right(tsl, ts, self.dead)
            tsl.insert(p, ts)
            self.amt.insert(p, amount)
            for col, k in zip(self.cols, keys, strict=True):
                col.insert(p, k)
            # Every prefix after the splice point grows by the new event's value.
            for arr, v in ((cs, amount), (cq, amount * amount)):
                if arr is not None:
                    arr.insert(p + 1, arr[p])
                    if v:
                        for i in range(p + 1, len(arr)):
                            arr[i] += v
        wins = self.wins
        if wins is not None and ts < self.as_of:
            # A late event before the materialised as-of time: it now sits at an index < hi.
            self.hi += 1
            for w, win in zip(spec.windows_desc, wins, strict=True):
                if win is None:
                    continue
                if ts >= self.as_of - w:
                    win.add_one(amount, keys)
                else:
                    win.lo += 1

    def compact(self) -> None:
        """Physically drop the ``dead`` prefix; running windows still reaching into it stop."""
        k = self.dead
        if k == 0:
            return
        del self.ts[:k]
        del self.amt[:k]
        for col in self.cols:
            del col[:k]
        for arr in (self.cs, self.cq):
            if arr is not None:
                base = arr[k]  # rebase so the prefix sums stay small ints
                arr[:] = [c - base for c in arr[k:]]
        self.dead = 0
        wins = self.wins
        if wins is not None:
            self.hi = max(self.hi - k, 0)
            for i, win in enumerate(wins):
                if win is not None:
                    if win.lo < k:
                        wins[i] = None
                    else:
                        win.lo -= k

    def values_into(
        self, t_us: int, amount: int, spec: StreamSpec, scan_max: int, out: list[FeatureValue]
    ) -> None:
        """Append this entity's feature values as of ``t_us`` to ``out``, in layout order.

        Only live events with ``ts < t_us`` count. May move running state (a cache), never what
        any trigger's values are.
        """
        tsl, dead = self.ts, self.dead
        hi = len(tsl) if not tsl or tsl[-1] < t_us else bisect_left(tsl, t_us, dead)
        longest = spec.longest_us
        lo7 = bisect_left(tsl, t_us - longest, dead, hi)
        if self.wins is None and hi - lo7 <= scan_max:
            self._sliced_into(t_us, lo7, hi, spec, out)
        else:
            self._running_into(t_us, lo7, hi, scan_max, spec, out)
        # The extras read the longest window (the layout refuses any other).
        if spec.tsp:  # a previous event in the window exists iff it is not empty
            out.append(seconds_between(t_us, tsl[hi - 1]) if lo7 < hi else None)
        if spec.to_mean or spec.zscore:
            cnt, total = hi - lo7, self.cs[hi] - self.cs[lo7]
            if spec.to_mean:
                out.append(amount_to_mean(amount, cnt, total))
            if spec.zscore:
                cq = self.cq
                total_sq = 0 if cq is None else cq[hi] - cq[lo7]
                out.append(amount_zscore(amount, cnt, total, total_sq))

    def _sliced_into(
        self, t_us: int, lo7: int, hi: int, spec: StreamSpec, out: list[FeatureValue]
    ) -> None:
        """Every window from log slices (no running state)."""
        if lo7 == hi:
            out.extend(spec.all_zeros)
            return
        cols = self.cols
        tsl, amt, cs = self.ts, self.amt, self.cs
        longest = spec.longest_us
        lo = lo7
        prev_lo = -1
        block: Block = ()
        for w in spec.windows_desc:
            if w != longest:
                lo = bisect_left(tsl, t_us - w, lo, hi)
            if lo != prev_lo:  # nested windows with the same start have the same values
                prev_lo = lo
                n = hi - lo
                if n == 0:
                    block = spec.zeros
                elif n == 1:
                    a = amt[lo]
                    block = (1, a, a, *[0 if col[lo] is None else 1 for col in cols])
                else:
                    distinct = []
                    for col in cols:
                        seen = set(col[lo:hi])
                        distinct.append(len(seen) - (None in seen))  # None is no value
                    block = (n, cs[hi] - cs[lo], max(amt[lo:hi]), *distinct)
            out.extend(block)

    def _running_into(
        self, t_us: int, lo7: int, hi: int, scan_max: int, spec: StreamSpec,
        out: list[FeatureValue],
    ) -> None:
        """Move (or start, or stop) each window's running state to ``t_us`` and emit."""
        tsl, amt, cols, cs = self.ts, self.amt, self.cols, self.cs
        windows = spec.windows_desc
        wins = self.wins
        if wins is None:
            wins = self.wins = [None] * len(windows)
        old_hi = self.hi
        lo = lo7
        prev_lo = -1
        block: Block = ()
        running = False
        for i, w in enumerate(windows):
            lo = bisect_left(tsl, t_us - w, lo, hi)
            n = hi - lo
            win = wins[i]
            if win is not None:
                if 2 * n < scan_max:
                    win = wins[i] = None
                elif lo != win.lo or hi != old_hi:
                    win.move(amt, cols, lo, hi, old_hi)
            elif n > scan_max:
                win = wins[i] = RunningWindow(amt, cols, lo, hi)
            running = running or win is not None
            if lo != prev_lo:  # nested windows with the same start have the same values
                prev_lo = lo
                if win is None or n == 0:
                    block = self._slice_block(lo, hi, spec)
                else:
                    mx = win.max_amount(amt, hi)
                    block = (n, cs[hi] - cs[lo], mx, *map(len, win.dist))
            out.extend(block)
        self.hi = hi
        self.as_of = t_us
        if not running:
            self.wins = None

    def _slice_block(self, lo: int, hi: int, spec: StreamSpec) -> Block:
        """One window's aggregates for log indices ``[lo, hi)``, from prefix sums and slices."""
        n = hi - lo
        if n == 0:
            return spec.zeros
        cols = self.cols
        amt = self.amt
        if n == 1:
            a = amt[lo]
            return (1, a, a, *[0 if col[lo] is None else 1 for col in cols])
        distinct = []
        for col in cols:
            seen = set(col[lo:hi])
            distinct.append(len(seen) - (None in seen))  # None is no value
        return (n, self.cs[hi] - self.cs[lo], max(amt[lo:hi]), *distinct)

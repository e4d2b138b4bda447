"""One entity's retained event log and its window aggregates (the OFP hot loop).

Layout, chosen for pure-Python speed:

- the log is parallel, ts-sorted lists (``ts``, ``amt`` and one column per distinct-count field);
  ties keep arrival order;
- count, amount sum, sum of squares, declines and step-ups come from prefix sums over the log,
  so any window is a ``bisect`` and a few subtractions, with no per-window state;
- distinct counts and the max of a *small* entity (most cards, devices, ips) are computed from
  slices of the log in C (``set``, ``max``); a *hot* entity (more than ``SCAN_MAX_EVENTS`` live
  events) keeps running window state instead: per window a value -> multiplicity ``dict`` per
  field and a max that is recomputed lazily only after the current max leaves. The running state
  is moved (forwards or backwards) to each trigger's time, so a trigger earlier than the previous
  one costs only the events between the two;
- a late event is spliced into the log and, where it falls inside a materialised window, into it.

Eviction is logical first: ``dead`` counts the leading entries the owner has evicted (always a
prefix, because eviction is by event time), and every read starts at ``dead``, so values never
depend on when the physical ``compact()`` happens or on which path computed them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Final

from app.ofp.feature_set import WINDOW_AGGREGATES, FeatureValue
from app.ofp.windows import (
    WINDOW_US,
    amount_to_mean,
    amount_zscore,
    seconds_between,
)

__all__ = ["SCAN_MAX_EVENTS", "DistinctKeys", "EntityWindows"]

DistinctKeys = tuple[str | None, ...]

# Above this many live events an entity keeps running window state; at or below it, slicing the
# log is cheaper than maintaining dicts (and most entities never get there).
SCAN_MAX_EVENTS: Final = 24

# Running max of an empty window: below every amount, so the first add replaces it.
_EMPTY_MAX: Final = float("-inf")
# Windows longest first, the order of the value layout (see ``kind_feature_names``): each
# window's start is at or after the previous one's, which bounds the next ``bisect``.
_WINDOWS_DESC: Final = tuple(sorted(WINDOW_US, reverse=True))
_LONGEST_US: Final = _WINDOWS_DESC[0]
# The values of one empty window, and of all windows empty, by number of distinct fields.
_ZEROS: Final = tuple((0,) * (len(WINDOW_AGGREGATES) + n) for n in range(4))
_ALL_ZEROS: Final = tuple(z * len(WINDOW_US) for z in _ZEROS)


class _Window:
    """Running state of one window: start index, max (``None`` = unknown), distinct multisets."""

    __slots__ = ("dist", "lo", "mx")

    def __init__(self, n_dist: int) -> None:
        self.lo = 0
        self.mx: float | None = _EMPTY_MAX
        self.dist: tuple[dict[str, int], ...] = tuple({} for _ in range(n_dist))


Columns = tuple[list[str | None], ...]


def _add_range(win: _Window, amt: list[int], cols: Columns, start: int, stop: int) -> None:
    mx = win.mx
    if mx is not None:
        top = max(amt[start:stop], default=mx)
        if top > mx:
            win.mx = top
    for d, col in zip(win.dist, cols, strict=True):
        for k in col[start:stop]:
            if k is not None:
                d[k] = d.get(k, 0) + 1


def _remove_range(win: _Window, amt: list[int], cols: Columns, start: int, stop: int) -> None:
    mx = win.mx
    if mx is not None and max(amt[start:stop], default=mx) >= mx:
        win.mx = None  # the max may have left; recomputed only if someone asks
    for d, col in zip(win.dist, cols, strict=True):
        for k in col[start:stop]:
            if k is not None:
                c = d[k]
                if c == 1:
                    del d[k]
                else:
                    d[k] = c - 1


def _rebuild(win: _Window, amt: list[int], cols: Columns, lo: int, hi: int) -> None:
    win.lo = lo
    win.mx = _EMPTY_MAX
    for d in win.dist:
        d.clear()
    _add_range(win, amt, cols, lo, hi)


class EntityWindows:
    """The retained log and window aggregates of one entity (e.g. one card).

    Invariant while ``wins`` is set: ``hi`` is the first live index with ``ts >= as_of`` and each
    window's running state covers exactly ``[win.lo, hi)``, ``win.lo`` being the first live index
    with ``ts >= as_of - w``.
    """

    __slots__ = (
        "amt",
        "as_of",
        "cd",
        "cols",
        "cq",
        "cs",
        "cu",
        "dead",
        "hi",
        "nullable",
        "ts",
        "wins",
    )

    def __init__(self, nullable: tuple[bool, ...], *, squares: bool) -> None:
        """Args:
        nullable: per distinct field, whether its value may be ``None`` (e.g. ``device_id``).
        squares: keep the sum of squared amounts (only cards need it, for the z-score).
        """
        self.nullable = nullable
        self.ts: list[int] = []
        self.amt: list[int] = []
        self.cols: Columns = tuple([] for _ in nullable)
        # Prefix sums, one longer than the log: amount, amount squared, declines, step-ups.
        self.cs: list[int] = [0]
        self.cq: list[int] | None = [0] if squares else None
        self.cd: list[int] = [0]
        self.cu: list[int] = [0]
        self.dead = 0
        self.wins: tuple[_Window, ...] | None = None
        self.as_of = 0
        self.hi = 0

    def __len__(self) -> int:
        return len(self.ts)

    def insert(
        self, ts: int, amount: int, declined: bool, stepped_up: bool, keys: DistinctKeys
    ) -> None:
        """Add one event; O(1) when in order, O(events after it) when late."""
        tsl, cs, cq, cd, cu = self.ts, self.cs, self.cq, self.cd, self.cu
        if not tsl or ts >= tsl[-1]:
            tsl.append(ts)
            self.amt.append(amount)
            for col, k in zip(self.cols, keys, strict=True):
                col.append(k)
            cs.append(cs[-1] + amount)
            if cq is not None:
                cq.append(cq[-1] + amount * amount)
            cd.append(cd[-1] + declined)
            cu.append(cu[-1] + stepped_up)
        else:
            p = bisect_right(tsl, ts, self.dead)
            tsl.insert(p, ts)
            self.amt.insert(p, amount)
            for col, k in zip(self.cols, keys, strict=True):
                col.insert(p, k)
            # Every prefix after the splice point grows by the new event's value.
            for arr, v in ((cs, amount), (cq, amount * amount), (cd, declined), (cu, stepped_up)):
                if arr is not None:
                    arr.insert(p + 1, arr[p])
                    if v:
                        for i in range(p + 1, len(arr)):
                            arr[i] += v
        wins = self.wins
        if wins is not None and ts < self.as_of:
            # A late event before the materialised as-of time: it now sits at an index < hi.
            self.hi += 1
            for w, win in zip(_WINDOWS_DESC, wins, strict=True):
                if ts >= self.as_of - w:
                    mx = win.mx
                    if mx is not None and amount > mx:
                        win.mx = amount
                    for d, k in zip(win.dist, keys, strict=True):
                        if k is not None:
                            d[k] = d.get(k, 0) + 1
                else:
                    win.lo += 1

    def compact(self) -> None:
        """Physically drop the ``dead`` prefix; running state still reaching into it is reset."""
        k = self.dead
        if k == 0:
            return
        del self.ts[:k]
        del self.amt[:k]
        for col in self.cols:
            del col[:k]
        for arr in (self.cs, self.cq, self.cd, self.cu):
            if arr is not None:
                base = arr[k]  # rebase so the prefix sums stay small ints
                arr[:] = [c - base for c in arr[k:]]
        self.dead = 0
        wins = self.wins
        if wins is not None:
            if any(win.lo < k for win in wins):
                self.wins = None
            else:
                self.hi -= k
                for win in wins:
                    win.lo -= k

    def values_into(
        self, t_us: int, amount: int, card_extras: bool, out: list[FeatureValue]
    ) -> None:
        """Append this entity's feature values as of ``t_us`` to ``out``, in layout order.

        Only live events with ``ts < t_us`` count. May move the running state (a cache), never
        what any trigger's values are.
        """
        tsl, dead = self.ts, self.dead
        hi = len(tsl) if not tsl or tsl[-1] < t_us else bisect_left(tsl, t_us, dead)
        if self.wins is None and len(tsl) - dead <= SCAN_MAX_EVENTS:
            lo7 = self._scan_into(t_us, hi, out)
        else:
            lo7 = self._running_into(t_us, hi, out)
        if lo7 < hi:  # a previous event within 7d exists iff the 7d window is not empty
            out.append(seconds_between(t_us, tsl[hi - 1]))
        else:
            out.append(None)
        if card_extras:
            cnt, total = hi - lo7, self.cs[hi] - self.cs[lo7]
            cq = self.cq
            total_sq = 0 if cq is None else cq[hi] - cq[lo7]
            out.append(amount_to_mean(amount, cnt, total))
            out.append(amount_zscore(amount, cnt, total, total_sq))

    def _scan_into(self, t_us: int, hi: int, out: list[FeatureValue]) -> int:
        """Stateless windows from log slices; returns the 7d window's start index."""
        tsl, cols = self.ts, self.cols
        lo7 = bisect_left(tsl, t_us - _LONGEST_US, self.dead, hi)
        if lo7 == hi:
            out.extend(_ALL_ZEROS[len(cols)])
            return lo7
        amt, cs, cd, cu, nullable = self.amt, self.cs, self.cd, self.cu, self.nullable
        lo = lo7
        prev_lo = -1
        block: tuple[FeatureValue, ...] = _ZEROS[len(cols)]
        for w in _WINDOWS_DESC:
            # Longest window first: each start is at or after the previous one.
            lo = bisect_left(tsl, t_us - w, lo, hi)
            if lo == prev_lo:  # nested windows with the same start have the same values
                out.extend(block)
                continue
            prev_lo = lo
            n = hi - lo
            if n == 0:
                block = _ZEROS[len(cols)]
            elif n == 1:
                a = amt[lo]
                block = (1, a, a, cd[hi] - cd[lo], cu[hi] - cu[lo])
                block += tuple([0 if col[lo] is None else 1 for col in cols])
            else:
                block = (n, cs[hi] - cs[lo], max(amt[lo:hi]), cd[hi] - cd[lo], cu[hi] - cu[lo])
                for col, may_be_none in zip(cols, nullable, strict=True):
                    seen = set(col[lo:hi])
                    if may_be_none:
                        seen.discard(None)
                    block += (len(seen),)
            out.extend(block)
        return lo7

    def _running_into(self, t_us: int, hi: int, out: list[FeatureValue]) -> int:
        """Move the running state to ``t_us`` and emit from it; returns the 7d window's start."""
        tsl, amt, cols, dead = self.ts, self.amt, self.cols, self.dead
        wins = self.wins
        if wins is None:
            wins = self.wins = tuple(_Window(len(cols)) for _ in _WINDOWS_DESC)
            for w, win in zip(_WINDOWS_DESC, wins, strict=True):
                _rebuild(win, amt, cols, bisect_left(tsl, t_us - w, dead, hi), hi)
        elif t_us != self.as_of:
            old_hi = self.hi
            for w, win in zip(_WINDOWS_DESC, wins, strict=True):
                old_lo = win.lo
                lo = bisect_left(tsl, t_us - w, dead, hi)
                if lo >= old_hi or hi <= old_lo:
                    _rebuild(win, amt, cols, lo, hi)
                    continue
                # Overlapping ranges: apply the two edge differences, in either direction.
                if lo > old_lo:
                    _remove_range(win, amt, cols, old_lo, lo)
                elif lo < old_lo:
                    _add_range(win, amt, cols, lo, old_lo)
                if hi > old_hi:
                    _add_range(win, amt, cols, old_hi, hi)
                elif hi < old_hi:
                    _remove_range(win, amt, cols, hi, old_hi)
                win.lo = lo
        self.hi = hi
        self.as_of = t_us
        cs, cd, cu = self.cs, self.cd, self.cu
        block: tuple[FeatureValue, ...] = _ZEROS[len(cols)]
        prev_lo = -1
        for win in wins:
            lo = win.lo
            if lo != prev_lo:  # nested windows with the same start have the same values
                prev_lo = lo
                if lo == hi:
                    block = _ZEROS[len(cols)]
                else:
                    mx = win.mx
                    if mx is None:
                        mx = win.mx = max(amt[lo:hi])
                    block = (hi - lo, cs[hi] - cs[lo], mx, cd[hi] - cd[lo], cu[hi] - cu[lo])
                    block += tuple(map(len, win.dist))
            out.extend(block)
        return wins[0].lo

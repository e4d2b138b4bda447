"""Running state of one event-time window over an entity's log: max and distinct multisets.

Used only for windows too large to recompute from log slices on every trigger (see
``entity_windows``). The window covers log indices ``[lo, hi)``; the owner passes ``hi`` and the
log columns on every call, so this holds no copy of the log. Moves go forwards or backwards, so a
trigger earlier than the previous one costs only the events between the two.
"""

from __future__ import annotations

from typing import Final

__all__ = ["Columns", "DistinctKeys", "RunningWindow"]

DistinctKeys = tuple[str | None, ...]
Columns = tuple[list[str | None], ...]

# Max of an empty window: below every amount, so the first add replaces it.
_EMPTY_MAX: Final = float("-inf")


class RunningWindow:
    """Start index, max with its multiplicity, and per distinct field a value -> count ``dict``.

    The max is ``None`` when unknown (it left the window and nobody has asked since); counting
    ties keeps a repeated max (round amounts) from forcing rescans.
    """

    __slots__ = ("dist", "lo", "mx", "mxn")

    def __init__(self, amt: list[int], cols: Columns, lo: int, hi: int) -> None:
        self.lo = lo
        self.mx: float | None = _EMPTY_MAX
        self.mxn = 0
        self.dist: tuple[dict[str, int], ...] = tuple({} for _ in cols)
        self._add(amt, cols, lo, hi)

    def move(self, amt: list[int], cols: Columns, lo: int, hi: int, old_hi: int) -> None:
        """Cover ``[lo, hi)`` instead of ``[self.lo, old_hi)``, touching only the difference."""
        old_lo = self.lo
        if lo >= old_hi or hi <= old_lo:  # disjoint: start again
            self.mx, self.mxn = _EMPTY_MAX, 0
            for d in self.dist:
                d.clear()
            self._add(amt, cols, lo, hi)
        else:
            if lo > old_lo:
                self._remove(amt, cols, old_lo, lo)
            elif lo < old_lo:
                self._add(amt, cols, lo, old_lo)
            if hi > old_hi:
                self._add(amt, cols, old_hi, hi)
            elif hi < old_hi:
                self._remove(amt, cols, hi, old_hi)
        self.lo = lo

    def add_one(self, amount: int, keys: DistinctKeys) -> None:
        """Count one event spliced into the window (a late arrival)."""
        mx = self.mx
        if mx is not None:
            if amount > mx:
                self.mx, self.mxn = amount, 1
            elif amount == mx:
                self.mxn += 1
        for d, k in zip(self.dist, keys, strict=True):
            if k is not None:
                d[k] = d.get(k, 0) + 1

    def max_amount(self, amt: list[int], hi: int) -> float:
        """The window's max amount (the window must not be empty)."""
        mx = self.mx
        if mx is None:
            seg = amt[self.lo : hi]
            top = max(seg)
            self.mx, self.mxn = top, seg.count(top)
            return top
        return mx

    def _add(self, amt: list[int], cols: Columns, start: int, stop: int) -> None:
        mx = self.mx
        if stop - start == 1:  # the usual step (one new event): no slices
            a = amt[start]
            if mx is not None:
                if a > mx:
                    self.mx, self.mxn = a, 1
                elif a == mx:
                    self.mxn += 1
            for d, col in zip(self.dist, cols, strict=False):
                k = col[start]
                if k is not None:
                    d[k] = d.get(k, 0) + 1
            return
        if mx is not None and stop > start:
            seg = amt[start:stop]
            top = max(seg)
            if top > mx:
                self.mx, self.mxn = top, seg.count(top)
            elif top == mx:
                self.mxn += seg.count(top)
        for d, col in zip(self.dist, cols, strict=True):
            for k in col[start:stop]:
                if k is not None:
                    d[k] = d.get(k, 0) + 1

    def _remove(self, amt: list[int], cols: Columns, start: int, stop: int) -> None:
        mx = self.mx
        if stop - start == 1:  # the usual step (one event expires): no slices
            if mx is not None and amt[start] >= mx:
                if self.mxn > 1 and amt[start] == mx:
                    self.mxn -= 1
                else:
                    self.mx = None
            for d, col in zip(self.dist, cols, strict=False):
                k = col[start]
                if k is not None:
                    c = d[k]
                    if c == 1:
                        del d[k]
                    else:
                        d[k] = c - 1
            return
        if mx is not None and stop > start:
            seg = amt[start:stop]
            top = max(seg)
            if top >= mx:
                left = self.mxn - seg.count(top) if top == mx else 0
                if left > 0:
                    self.mxn = left
                else:
                    self.mx = None  # recomputed only if someone asks
        for d, col in zip(self.dist, cols, strict=True):
            for k in col[start:stop]:
                if k is not None:
                    c = d[k]
                    if c == 1:
                        del d[k]
                    else:
                        d[k] = c - 1

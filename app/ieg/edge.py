"""One co-occurrence edge and its strict as-of arithmetic.

An edge keeps ``first_us``, ``last_us``, ``count`` and just enough history to say exactly which of
its occurrences lie strictly before a query time ``T`` when ``T`` is near the edge's newest
occurrence: every distinct occurrence time within ``tolerance_us`` of ``last_us`` (with counts),
plus ``anchor_us``, the newest occurrence older than that band. So a query with
``T >= last_us - tolerance_us`` (in particular any ``T >= watermark - tolerance``) is exact, while
the state per edge stays O(occurrences inside the band), usually one or two numbers.

For an older ``T`` (``first_us < T <= anchor_us``) the edge is still known to be visible (its first
occurrence precedes ``T``) but its newest occurrence before ``T`` and its count are not: the answer
falls back to ``first_us`` and to an over-count, and :meth:`Edge.exact_before` says so.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Edge"]


class Edge:
    """Occurrence summary of one undirected edge; the same object sits in both endpoints' rows.

    Invariants, with ``B = last_us - tolerance_us``: ``n_last`` occurrences are at ``last_us``;
    ``mid`` lists ``(ts, n)`` for every distinct earlier occurrence time in ``[B, last_us)``, oldest
    first (``None`` when empty); ``anchor_us`` is the newest occurrence time below ``B`` (``None``
    when there is none).
    """

    __slots__ = ("anchor_us", "count", "first_us", "last_us", "mid", "n_last")

    def __init__(self, ts_us: int) -> None:
        self.first_us = ts_us
        self.last_us = ts_us
        self.count = 1
        self.n_last = 1
        self.anchor_us: int | None = None
        self.mid: list[tuple[int, int]] | None = None

    def add(self, ts_us: int, tolerance_us: int) -> None:
        """Record one more occurrence at ``ts_us`` (any order; in-order is the cheap case)."""
        last = self.last_us
        self.count += 1
        if ts_us > last:
            cut = ts_us - tolerance_us
            if last < cut:
                # Every earlier occurrence falls below the new band; the newest of them is `last`.
                self.anchor_us = last
                self.mid = None
            else:
                mid = self.mid if self.mid is not None else []
                mid.append((last, self.n_last))
                i = 0
                while mid[i][0] < cut:  # stops: mid[-1] is `last`, which is >= cut
                    i += 1
                if i:
                    self.anchor_us = mid[i - 1][0]  # band entries are newer than any old anchor
                    del mid[:i]
                self.mid = mid
            self.last_us = ts_us
            self.n_last = 1
        elif ts_us == last:
            self.n_last += 1
        else:
            self._add_past(ts_us, tolerance_us)

    def _add_past(self, ts_us: int, tolerance_us: int) -> None:
        """An occurrence older than ``last_us``: only across-shard interleaving produces these."""
        if ts_us < self.first_us:
            self.first_us = ts_us
        if ts_us >= self.last_us - tolerance_us:
            mid = self.mid if self.mid is not None else []
            for i, (ts, n) in enumerate(mid):
                if ts == ts_us:
                    mid[i] = (ts, n + 1)
                    break
                if ts > ts_us:
                    mid.insert(i, (ts_us, 1))
                    break
            else:
                mid.append((ts_us, 1))
            self.mid = mid
        elif self.anchor_us is None or ts_us > self.anchor_us:
            self.anchor_us = ts_us

    def latest_before(self, as_of_us: int) -> int | None:
        """Newest occurrence strictly before ``as_of_us``, or None if the edge is not yet visible.

        Best-effort (``first_us``) when ``first_us < as_of_us <= anchor_us``; see the module doc.
        """
        last = self.last_us
        if as_of_us > last:
            return last
        if self.mid is not None:
            for ts, _ in reversed(self.mid):
                if ts < as_of_us:
                    return ts
        anchor = self.anchor_us
        if anchor is not None and anchor < as_of_us:
            return anchor
        return self.first_us if self.first_us < as_of_us else None

    def count_before(self, as_of_us: int) -> int:
        """Occurrences before ``as_of_us`` (over-counts unless :meth:`exact_before`)."""
        if as_of_us > self.last_us:
            return self.count
        if as_of_us <= self.first_us:
            return 0
        n = self.count - self.n_last
        if self.mid is not None:
            for ts, k in self.mid:
                if ts >= as_of_us:
                    n -= k
        return n

    def exact_before(self, as_of_us: int) -> bool:
        """Whether :meth:`latest_before` and :meth:`count_before` are exact for ``as_of_us``."""
        anchor = self.anchor_us
        return anchor is None or as_of_us > anchor or as_of_us <= self.first_us

    def to_state(self) -> list[Any]:
        """JSON-able ``[first, last, count, n_last, anchor, mid]``, for :meth:`from_state`."""
        mid = None if self.mid is None else [[ts, n] for ts, n in self.mid]
        return [self.first_us, self.last_us, self.count, self.n_last, self.anchor_us, mid]

    @classmethod
    def from_state(cls, state: list[Any]) -> Edge:
        """Rebuild an edge from :meth:`to_state` output."""
        first, last, count, n_last, anchor, mid = state
        edge = cls(last)
        edge.first_us = first
        edge.count = count
        edge.n_last = n_last
        edge.anchor_us = anchor
        edge.mid = None if mid is None else [(ts, n) for ts, n in mid]
        return edge

"""One run's traffic in event-time order, released under the watermarks of its partitions.

Exactness (DESIGN section 6, issue #12): a trigger at T must see exactly the run's events with
``ts_utc < T``, on every traffic partition, whatever the partition count, the worker count or
how the partitions' records interleave on the way here. The sequencer makes the order of
application a function of the logs alone:

- every event gets a *release key*: its own ``ts_us``, or, when it is late (its partition's
  watermark had already passed it where it sits in that partition's log), that watermark;
- the run's combined watermark ``W`` is the minimum, over the run's ``partitions`` traffic
  partitions, of the highest watermark each has carried (a partition not yet heard from holds
  ``W`` back);
- when ``W`` rises, every buffered event with key ``< W`` is released in ``(key, event_id,
  event_type)`` order; once every partition is final, everything is.

Why that order does not depend on interleaving: an event arrives after the records before it in
its own partition, so its key is at least that partition's watermark, which is at least ``W``.
Every key therefore arrives at or above the frontier already released, and the release sequence
is the one global sort of all keys. Late events are the only ones whose key depends on where the
log put them, and they are flagged (the caller counts them and marks a late trigger's decision).
"""

from __future__ import annotations

import heapq
import sys
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

__all__ = ["FINAL_US", "Released", "RunSequencer"]

T = TypeVar("T")

FINAL_US: Final = sys.maxsize
"""A final watermark: the source has ended on that partition (nothing more will come)."""
_NONE_YET: Final = -sys.maxsize


@dataclass(frozen=True, slots=True)
class Released(Generic[T]):
    item: T
    late: bool


class RunSequencer(Generic[T]):
    """Buffers one run's events and releases them in event-time order (see module docstring)."""

    __slots__ = ("_counter", "_frontier", "_heap", "_partitions", "_wm", "late_events")

    def __init__(self) -> None:
        self._partitions = 0  # unknown until the first watermark names it
        self._wm: dict[int, int] = {}
        self._frontier = _NONE_YET
        # (key, event_id, event_type, arrival counter, late, item): the counter only keeps the
        # heap from comparing items; two entries never tie before it (ids are unique per run).
        self._heap: list[tuple[int, str, str, int, bool, T]] = []
        self._counter = 0
        self.late_events = 0

    @property
    def pending(self) -> int:
        """Events buffered, waiting for the watermark."""
        return len(self._heap)

    @property
    def frontier_us(self) -> int | None:
        """The combined watermark released so far (``None`` before the first release)."""
        return None if self._frontier == _NONE_YET else self._frontier

    def offer_event(self, partition: int, ts_us: int, event_id: str, event_type: str,
                    item: T) -> list[Released[T]]:
        """Buffer one event read from ``partition``; returns what it releases (only a late
        event after every partition is final releases itself at once)."""
        mark = self._wm.get(partition, _NONE_YET)
        late = ts_us < mark
        key = mark if late else ts_us
        self.late_events += late
        self._counter += 1
        heapq.heappush(self._heap, (key, event_id, event_type, self._counter, late, item))
        return self._release() if self._frontier == FINAL_US else []

    def offer_watermark(self, partition: int, partitions: int,
                        watermark_us: int) -> list[Released[T]]:
        """Record a partition's watermark (``FINAL_US`` when final); returns what it releases.

        ``partitions`` is how many traffic partitions the run's watermarks come from; a record
        naming more than seen so far widens the set (a partition not heard from holds back).
        """
        if partitions > self._partitions:
            self._partitions = partitions
        if watermark_us > self._wm.get(partition, _NONE_YET):
            self._wm[partition] = watermark_us
        combined = min(self._wm.get(p, _NONE_YET) for p in range(self._partitions))
        if combined <= self._frontier:
            return []
        self._frontier = combined
        return self._release()

    def _release(self) -> list[Released[T]]:
        heap, frontier = self._heap, self._frontier
        out: list[Released[T]] = []
        while heap and (heap[0][0] < frontier or frontier == FINAL_US):
            _, _, _, _, late, item = heapq.heappop(heap)
            out.append(Released(item, late))
        return out

"""Route Faust table reads and writes of a batch to each event's own partition.

Faust files a table write under the changelog partition of the *current event* and reads from
that partition's store: both look at the context variable ``faust.streams._current_event``.
When an agent processes a batch (``take_events``), that variable holds the batch's last event,
which would file other events' state under the wrong partition. :func:`as_current` points the
context variable (only: never the stream's own ``current_event`` attribute, which
``take_events``' background buffering reads) at the event whose state comes next.
faust-streaming 0.15.3 is pinned in pyproject.toml for this hook.

A stage that takes a partition eagerly (on assignment, from a timer) writes its tables with no
delivered event in hand: :func:`as_current_partition` makes a stand-in current, an object with
``message.topic`` and ``message.partition`` only, which is all faust reads there (the source
topic's partition count check, the changelog send and the RocksDB store's partition lookup).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from faust import streams

__all__ = ["as_current", "as_current_partition"]


def as_current(event: Any) -> None:
    """Make ``event`` current for the table reads and writes that follow in this task."""
    streams._current_event.set(weakref.ref(event))


@dataclass(frozen=True)
class _Message:
    topic: str
    partition: int


@dataclass(frozen=True)
class _PartitionEvent:
    """Stands in for a delivered event of ``message.partition`` (see the module doc)."""

    message: _Message


_STAND_INS: dict[tuple[str, int], _PartitionEvent] = {}  # kept alive: faust holds weak refs


def as_current_partition(topic: str, partition: int, carrier: Any = None) -> None:
    """Make ``carrier`` current, or, without one, a stand-in event of ``topic``'s ``partition``
    (the source topic faust checks against the changelog's partition count)."""
    if carrier is not None:
        as_current(carrier)
        return
    stand_in = _STAND_INS.get((topic, partition))
    if stand_in is None:
        stand_in = _STAND_INS[topic, partition] = _PartitionEvent(_Message(topic, partition))
    as_current(stand_in)

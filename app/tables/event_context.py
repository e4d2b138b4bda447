"""Route Faust table reads and writes of a batch to each event's own partition.

Faust files a table write under the changelog partition of the *current event* and reads from
that partition's store: both look at the context variable ``faust.streams._current_event``.
When an agent processes a batch (``take_events``), that variable holds the batch's last event,
which would file other events' state under the wrong partition. :func:`as_current` points the
context variable (only: never the stream's own ``current_event`` attribute, which
``take_events``' background buffering reads) at the event whose state comes next.
faust-streaming 0.15.3 is pinned in pyproject.toml for this hook.
"""

from __future__ import annotations

import weakref
from typing import Any

from faust import streams

__all__ = ["as_current"]


def as_current(event: Any) -> None:
    """Make ``event`` current for the table reads and writes that follow in this task."""
    streams._current_event.set(weakref.ref(event))

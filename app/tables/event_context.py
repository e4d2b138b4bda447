"""Route Faust table writes of a batch to each event's own partition.

Faust sends a table write to the changelog partition of the *current event* (a context
variable the stream sets as it yields). When an agent processes a batch (``take_events``), the
current event is the batch's last one, which would file other events' state under the wrong
partition. :func:`as_current` makes a given event current before its writes. It calls
``Stream._set_current_event``, the same hook faust's own iteration uses (faust-streaming 0.15.3
is pinned in pyproject.toml).
"""

from __future__ import annotations

from typing import Any

__all__ = ["as_current"]


def as_current(stream: Any, event: Any) -> None:
    """Make ``event`` the current event of ``stream`` for the table writes that follow."""
    stream._set_current_event(event)

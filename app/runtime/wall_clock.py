"""The wall clock in the wire form, for the clocks that are allowed one.

Ingestion time on receipts, apply time in checkpoints and governance facts (DESIGN section 2):
never a decision, an outcome or an id. One place, so a reader can find every wall-clock stamp.
"""

from __future__ import annotations

import time

from app.rails.timefmt import epoch_micros_to_ts

__all__ = ["wall_clock_ts"]


def wall_clock_ts() -> str:
    """Now, as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return epoch_micros_to_ts(time.time_ns() // 1000)

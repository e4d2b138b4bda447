"""Event-time windows and the exact statistics computed over them.

A window ``w`` for trigger time ``T`` covers events with ``T - w <= ts_us < T``: strictly earlier
than the trigger (as-of safety: an event at exactly ``T`` never counts). The statistics below take
integer aggregates (count, sum, sum of squares) and do one correctly rounded division, so the
online state, the brute-force reference and the offline rebuild agree to the last bit however the
aggregates were accumulated.
"""

from __future__ import annotations

import math
import re
from typing import Final

__all__ = [
    "MICROS_PER_SECOND",
    "RETENTION_US",
    "WINDOWS",
    "WINDOW_NAMES",
    "WINDOW_US",
    "amount_to_mean",
    "amount_zscore",
    "in_window",
    "seconds_between",
    "window_us",
]

MICROS_PER_SECOND: Final = 1_000_000
_MINUTE_US: Final = 60 * MICROS_PER_SECOND
_HOUR_US: Final = 60 * _MINUTE_US
_DAY_US: Final = 24 * _HOUR_US

# Name -> length in microseconds, shortest first (the 7d window is last: the card ratio features
# read its aggregates); names are part of the feature names.
WINDOWS: Final[dict[str, int]] = {
    "5m": 5 * _MINUTE_US,
    "1h": _HOUR_US,
    "24h": 24 * _HOUR_US,
    "7d": 7 * _DAY_US,
}
WINDOW_NAMES: Final[tuple[str, ...]] = tuple(WINDOWS)
WINDOW_US: Final[tuple[int, ...]] = tuple(WINDOWS.values())
# The longest look-back any feature needs (windows and time_since_prev_s).
RETENTION_US: Final = WINDOWS["7d"]

_DECIMALS: Final = 6
_WINDOW_NAME = re.compile(r"^([1-9][0-9]{0,3})(m|h|d)$")
_UNIT_US: Final = {"m": _MINUTE_US, "h": _HOUR_US, "d": _DAY_US}


def window_us(name: str) -> int:
    """The length of a window named ``<n>m``, ``<n>h`` or ``<n>d`` (the name is part of feature
    names, so it says exactly how long the window is).

    Raises:
        ValueError: not such a name.
    """
    m = _WINDOW_NAME.match(name)
    if m is None:
        raise ValueError(f"window {name!r} is not <n>m, <n>h or <n>d")
    return int(m.group(1)) * _UNIT_US[m.group(2)]


def in_window(ts_us: int, trigger_ts_us: int, window_us: int) -> bool:
    """Whether an event at ``ts_us`` counts in the window of ``window_us`` ending at the trigger."""
    return trigger_ts_us - window_us <= ts_us < trigger_ts_us


def seconds_between(later_us: int, earlier_us: int) -> float:
    """``later - earlier`` in seconds, rounded to 6 decimals (exact for whole microseconds)."""
    return round((later_us - earlier_us) / MICROS_PER_SECOND, _DECIMALS)


def amount_to_mean(amount_minor: int, count: int, total: int) -> float | None:
    """``amount / mean``, ``mean = total / count``; ``None`` for an empty window or zero mean."""
    if count == 0 or total == 0:
        return None
    # amount / (total / count) as one int/int division: correctly rounded, order independent.
    return round(amount_minor * count / total, _DECIMALS)


def amount_zscore(amount_minor: int, count: int, total: int, total_sq: int) -> float | None:
    """Population z-score of ``amount`` against a window's ``(count, sum, sum of squares)``.

    ``(a - S/n) / (sqrt(n*Q - S**2)/n) == (a*n - S) / sqrt(n*Q - S**2)``: both parts are exact
    integers, so only the square root and one division round. ``None`` when ``count < 2`` or the
    standard deviation is zero.
    """
    if count < 2:
        return None
    var_num = count * total_sq - total * total
    if var_num <= 0:
        return None
    return round((amount_minor * count - total) / math.sqrt(var_num), _DECIMALS)

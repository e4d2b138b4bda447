"""The bus-census table: name (also its changelog topic's suffix) and typed key encoding.

Key encoding v1: ``"<partition>|<run_id>|<event_type>"``. The partition comes first because a
Faust table write goes to the changelog partition of the event being processed: a key that
several source partitions could write would be split across changelog partitions.
Records that are not envelopes are counted under run ``-`` and event type ``invalid``.
"""

from __future__ import annotations

__all__ = ["CENSUS_TABLE", "INVALID_EVENT_TYPE", "NO_RUN", "census_key", "parse_census_key"]

CENSUS_TABLE = "census-v1"
NO_RUN = "-"
INVALID_EVENT_TYPE = "invalid"


def census_key(partition: int, run_id: str, event_type: str) -> str:
    """Encode a census key (see module docstring)."""
    return f"{partition}|{run_id}|{event_type}"


def parse_census_key(key: str) -> tuple[int, str, str]:
    """Decode :func:`census_key`; raises ValueError on a malformed key."""
    partition, run, event_type = key.split("|", 2)
    return int(partition), run, event_type

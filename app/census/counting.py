"""Pure counting logic of the bus census (no faust, no broker, no clock).

Counts are kept per (source partition, run_id, event_type) together with the last applied
source offset. Within one partition offsets only grow, so a redelivered record (at-least-once
after a crash or rebalance) has ``offset <= last_offset`` and is a no-op: totals stay exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CensusCount", "apply_record", "merge_counts"]


class CensusCount(BaseModel):
    """State of one census key: how many records, and the newest source offset applied."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=0)
    last_offset: int = Field(ge=-1)
    first_ts_utc: str | None = None
    last_ts_utc: str | None = None


def apply_record(
    state: CensusCount | None, offset: int, ts_utc: str | None = None
) -> CensusCount | None:
    """Count the record at ``offset``; None when it was already counted (redelivery).

    Args:
        state: the key's state, or None for a first record.
        offset: the record's offset in its source partition.
        ts_utc: the record's domain time, kept for the first/last seen span.
    """
    if state is None:
        return CensusCount(count=1, last_offset=offset, first_ts_utc=ts_utc, last_ts_utc=ts_utc)
    if offset <= state.last_offset:
        return None
    return CensusCount(
        count=state.count + 1,
        last_offset=offset,
        first_ts_utc=state.first_ts_utc or ts_utc,
        last_ts_utc=ts_utc if ts_utc is not None else state.last_ts_utc,
    )


def merge_counts(
    items: Iterable[tuple[tuple[int, str, str], Mapping[str, Any] | CensusCount]],
) -> dict[str, dict[str, int]]:
    """Sum per-partition counts into ``{run_id: {event_type: count}}`` (sorted, for people)."""
    totals: dict[str, dict[str, int]] = {}
    for (_partition, run, event_type), state in items:
        count = state.count if isinstance(state, CensusCount) else int(state["count"])
        by_type = totals.setdefault(run, {})
        by_type[event_type] = by_type.get(event_type, 0) + count
    return {run: dict(sorted(types.items())) for run, types in sorted(totals.items())}

"""Event-time progress on the traffic log: WSP's promise, and the watermark record IG writes.

Exact features (DESIGN section 6, issue #12) need to know when no more traffic with
``ts_utc < X`` can arrive for a run. The only producer that can promise it is the one that
streams in event-time order, WSP; the only writer of the traffic log is IG. So:

- WSP stamps every ingress record it sends with :data:`PROGRESS_HEADER` = the event time (epoch
  microseconds, ASCII) such that every row it will still send has ``ts_utc`` >= it, and sends
  a *progress marker* (empty value, :data:`PROGRESS_HEADER` + :data:`PROGRESS_RUN_HEADER`) to
  ingress partitions that had no row for a while, and :data:`PROGRESS_END` to every ingress
  partition when the stream ends. Only platform producers set these headers (HTTP ingest never
  copies a client's headers onto a record).
- IG, after the broker acked every admitted record of a batch, writes one
  :class:`TrafficWatermark` per (run, traffic partition) whose progress advanced, into that
  traffic partition with :data:`WATERMARK_HEADER`. Admitted traffic goes to the traffic
  partition numbered like its ingress partition, so a watermark follows, in the same log, every
  record it covers: the fold that reads it is a pure function of the logs.

A watermark record is not an envelope: every reader of the traffic log recognises it by the
header (or by ``record_type``) before it parses an envelope.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from app.rails.ids import Hex32
from app.rails.timefmt import TsUtc

__all__ = [
    "PROGRESS_END",
    "PROGRESS_HEADER",
    "PROGRESS_RUN_HEADER",
    "WATERMARK_HEADER",
    "TrafficWatermark",
    "is_watermark_record",
]

PROGRESS_HEADER = "fp-progress"
"""WSP -> IG: ASCII epoch microseconds, or :data:`PROGRESS_END` (no more rows from this source)."""
PROGRESS_RUN_HEADER = "fp-progress-run"
"""WSP -> IG, on a progress marker (a record with an empty value): the run_id it speaks for."""
PROGRESS_END = b"end"
WATERMARK_HEADER = "fp-watermark"
"""IG -> traffic log: marks a :class:`TrafficWatermark` record (value ``b"1"``)."""

_Count = Annotated[int, Strict(), Field(ge=1)]
_Index = Annotated[int, Strict(), Field(ge=0)]


class TrafficWatermark(BaseModel):
    """A source's promise on one traffic partition: nothing earlier than ``watermark_ts_utc``
    from ``source`` is still to come on this partition for this run (v1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["watermark"] = "watermark"
    run_id: Hex32
    source: Literal["wsp"] = Field(default="wsp", description="Whose progress this is.")
    partition: _Index = Field(description="The traffic partition this record sits in.")
    partitions: _Count = Field(
        description="How many traffic partitions the run's fold must hear from.")
    watermark_ts_utc: TsUtc | None = Field(
        description="Every later record from the source has ts_utc >= this; null once final.")
    final: bool = Field(description="The source has ended: nothing more will come from it.")


def is_watermark_record(headers: object) -> bool:
    """Whether a consumed record's headers (aiokafka list of pairs, or a mapping) mark a
    watermark record."""
    if headers is None:
        return False
    items = headers.items() if isinstance(headers, dict) else headers
    try:
        return any(k == WATERMARK_HEADER for k, _ in items)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return False

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

from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from app.rails.canonical_json import canonical_dumps
from app.rails.ids import Hex32
from app.rails.timefmt import TsUtc, epoch_micros_to_ts

__all__ = [
    "END_MICROS",
    "PROGRESS_END",
    "PROGRESS_HEADER",
    "PROGRESS_RUN_HEADER",
    "WATERMARK_HEADER",
    "TrafficWatermark",
    "encode_progress",
    "is_watermark_record",
    "is_watermark_value",
    "parse_progress",
    "watermark_at",
    "watermark_value",
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
    if isinstance(headers, Mapping):
        return WATERMARK_HEADER in headers
    if not isinstance(headers, Iterable) or isinstance(headers, str | bytes):
        return False
    try:
        return any(k == WATERMARK_HEADER for k, _ in headers)
    except (TypeError, ValueError):
        return False


END_MICROS = 2**63 - 1
""":data:`PROGRESS_END` as a number: later than any event time, so progress stays a max."""
_MAX_TS_MICROS = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z, the wire form's last


def encode_progress(micros: int) -> bytes:
    """The :data:`PROGRESS_HEADER` value for event time ``micros`` (or :data:`END_MICROS`)."""
    return PROGRESS_END if micros >= END_MICROS else str(micros).encode("ascii")


def parse_progress(raw: object) -> int | None:
    """A :data:`PROGRESS_HEADER` value as epoch micros (:data:`END_MICROS` for the end).

    None when it is malformed (not bytes, not a plain non-negative decimal, past year 9999): the
    caller ignores it and counts it, a bad header never stops IG.
    """
    if not isinstance(raw, bytes | bytearray) or len(raw) > 20:
        return None
    if raw == PROGRESS_END:
        return END_MICROS
    if not raw or not raw.isdigit():  # isdigit on bytes: ASCII 0-9 only (no sign, no space)
        return None
    micros = int(raw)
    return micros if micros <= _MAX_TS_MICROS else None


def watermark_at(run_id: str, partition: int, partitions: int, progress: int) -> TrafficWatermark:
    """The watermark record for ``progress`` (epoch micros, or :data:`END_MICROS`: final)."""
    final = progress >= END_MICROS
    return TrafficWatermark(run_id=run_id, partition=partition, partitions=partitions,
                            watermark_ts_utc=None if final else epoch_micros_to_ts(progress),
                            final=final)


def watermark_value(watermark: TrafficWatermark) -> bytes:
    """The record value IG publishes: the model's canonical JSON."""
    return canonical_dumps(watermark.model_dump(mode="json"))


def is_watermark_value(body: object) -> bool:
    """Whether a parsed traffic value (a JSON object) is a watermark record: for readers that
    hold only the value, not the headers."""
    return isinstance(body, dict) and body.get("record_type") == "watermark"

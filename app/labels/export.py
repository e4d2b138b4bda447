"""``fp labels export``: a run's labels as known at T, one Parquet file for the learning loop.

:func:`export_rows` is pure: one row per assertion of the run observed at or before T, ordered
by flow id then timeline order (``app.labels.timeline``), so the same store and T give the same
rows whenever they are read. Each row says:

- ``active``: it is the latest assertion of its label type on the flow as known at T (what
  :meth:`LabelTimelines.active` returns with no effective-time bound); a superseded one is kept,
  ``false``, so a reader can replay the revisions;
- ``is_verdict``: it is the flow's verdict as known at T (:meth:`LabelTimelines.verdict`, the
  latest word over every type);
- ``flow_known``: the run's admitted traffic has the flow (``app.labels.known_flows``). A label
  for an unknown flow is exported and flagged, never dropped.

:func:`write_parquet` writes a fixed schema (strings and booleans; the two times as wire-form
strings and as int64 epoch micros) with fixed writer options and no varying metadata: the same
rows give the same file bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from app.labels.timeline import LabelTimelines
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["EXPORT_SCHEMA", "ExportSummary", "export_rows", "summarize", "write_parquet"]

EXPORT_SCHEMA = pa.schema([
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("flow_id", pa.string(), nullable=False),
    pa.field("card_id", pa.string(), nullable=True),  # null: an import that maps no card
    pa.field("account_id", pa.string(), nullable=True),
    pa.field("label_id", pa.string(), nullable=False),
    pa.field("label_type", pa.string(), nullable=False),
    pa.field("label_value", pa.string(), nullable=False),
    pa.field("effective_ts_utc", pa.string(), nullable=False),
    pa.field("effective_us", pa.int64(), nullable=False),
    pa.field("observed_ts_utc", pa.string(), nullable=False),
    pa.field("observed_us", pa.int64(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("flow_known", pa.bool_(), nullable=False),
    pa.field("active", pa.bool_(), nullable=False),
    pa.field("is_verdict", pa.bool_(), nullable=False),
])
"""The export's columns, in order (one row per assertion)."""


@dataclass(frozen=True)
class ExportSummary:
    rows: int
    flows: int
    unknown_flow_rows: int


def export_rows(timelines: LabelTimelines, run_id: str, known_at_us: int,
                known_flows: frozenset[str]) -> list[dict[str, Any]]:
    """Every assertion of ``run_id`` observed at or before ``known_at_us``, with its flags."""
    rows: list[dict[str, Any]] = []
    for subject in timelines.subjects():  # sorted by (run, flow)
        if subject[0] != run_id:
            continue
        timeline = timelines.timeline(subject, known_at_us=known_at_us)
        if not timeline:
            continue
        active = {a.label_id for a in timelines.active(subject, known_at_us=known_at_us)
                  .values()}
        verdict = timelines.verdict(subject, known_at_us=known_at_us)
        flow_known = subject[1] in known_flows
        for a in timeline:
            rows.append({
                "run_id": a.run_id, "flow_id": a.flow_id, "card_id": a.card_id,
                "account_id": a.account_id, "label_id": a.label_id,
                "label_type": a.label_type, "label_value": a.label_value,
                "effective_ts_utc": a.effective_ts_utc,
                "effective_us": ts_to_epoch_micros(a.effective_ts_utc),
                "observed_ts_utc": a.observed_ts_utc,
                "observed_us": ts_to_epoch_micros(a.observed_ts_utc),
                "source": a.source, "flow_known": flow_known,
                "active": a.label_id in active,
                "is_verdict": verdict is not None and a.label_id == verdict.label_id})
    return rows


def summarize(rows: Sequence[dict[str, Any]]) -> ExportSummary:
    return ExportSummary(rows=len(rows), flows=len({r["flow_id"] for r in rows}),
                         unknown_flow_rows=sum(1 for r in rows if not r["flow_known"]))


def write_parquet(rows: Sequence[dict[str, Any]], path: Path) -> ExportSummary:
    """Write ``rows`` under :data:`EXPORT_SCHEMA` (via a temporary file, then a rename)."""
    table = pa.Table.from_pylist(list(rows), schema=EXPORT_SCHEMA)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd", use_dictionary=True, write_statistics=True,
                   row_group_size=1 << 20)
    os.replace(tmp, path)
    return summarize(rows)

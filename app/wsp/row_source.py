"""Rows of one planned output, read by reference from the Oracle pack, in event-time order.

This module keeps *no PASS, no read* at file level: every part's bytes are hashed and compared
with the digest SR verified (carried in the plan) before a single row of it is decoded, and a
mismatch stops the output with :class:`PartDigestMismatchError` naming the file. Memory stays
bounded by one part's bytes plus one decoded batch: parts are fetched one at a time and decoded
``batch_rows`` rows at a time.

Rows come out as :class:`SourceRow` with every timestamp column as integer epoch microseconds
(exact and cheap to compare; formatting to the wire form is framing's job) and the output's
``index`` (0-based position in its event-time order), which is what checkpoints count. Resuming
from ``start_row = K`` skips the first K rows without decoding them: whole parts and row groups
are skipped by their Parquet metadata, the rest by slicing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from app.oracle.pack_reader import PackReader
from app.rails.canonical_json import sha256_hex
from app.rails.timefmt import epoch_micros_to_ts
from app.wsp.errors import PackContentError, PartDigestMismatchError
from app.wsp.stream_plan import PlannedFile, PlannedOutput

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "SourceRow",
    "load_part",
    "read_output_batches",
    "read_output_rows",
]

DEFAULT_BATCH_ROWS = 4096
"""Rows decoded per batch: large enough to amortise pyarrow's per-call cost, small enough that
one batch's Python dicts stay a few MB and never hold the event loop for long."""

_US_UTC = pa.timestamp("us", tz="UTC")


class SourceRow(NamedTuple):
    """One engine row ready for merging and framing.

    ``pk_values`` holds the primary-key columns in key order (a timestamp key in the wire form,
    so ids hash the same text everywhere); ``row`` holds every column of the part, timestamps as
    epoch micros ints; ``timestamp_columns`` names the columns that are timestamps.
    """

    output_id: str
    index: int
    time_micros: int
    pk_values: dict[str, Any]
    row: dict[str, Any]
    timestamp_columns: frozenset[str]


async def load_part(reader: PackReader, output: PlannedOutput, part: PlannedFile) -> pq.ParquetFile:
    """Fetch one part and verify it against the plan's digest before opening it.

    Raises:
        PartDigestMismatchError: the bytes differ from what SR verified (nothing is decoded).
        PackFileMissingError: the part is gone from the pack.
    """
    data = await reader.read(part.path)
    # Hash off the event loop: hashlib releases the GIL, and parts can be many MB.
    actual_hex = await asyncio.to_thread(sha256_hex, data)
    if actual_hex != part.digest.hex:  # Digest.algo is always sha256 (a closed Literal)
        raise PartDigestMismatchError(output.output_id, part.path, part.digest.hex, actual_hex,
                                      len(data))
    try:
        return pq.ParquetFile(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        problem = f"not a readable Parquet file: {exc}"
        raise PackContentError(output.output_id, part.path, problem) from exc


async def read_output_batches(
    reader: PackReader,
    output: PlannedOutput,
    *,
    start_row: int = 0,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> AsyncGenerator[list[SourceRow], None]:
    """Batches of rows ``start_row .. rows_planned - 1`` of ``output``, in event-time order.

    Every part up to the last planned row is fetched and verified (skipped parts too: their row
    counts come from their own metadata); nothing is fetched when ``start_row == rows_planned``.
    Uncapped outputs are read to the end, so a pack whose row count differs from the view is
    caught.

    Args:
        start_row: rows already done (a checkpoint's ``rows_done``): the first row yielded has
            ``index == start_row``.
        batch_rows: rows decoded per batch (>= 1).

    Raises:
        ValueError: ``start_row`` outside ``0 .. rows_planned`` or ``batch_rows`` < 1.
        PartDigestMismatchError, PackContentError: see :func:`load_part` and the module docstring.
    """
    if not 0 <= start_row <= output.rows_planned:
        raise ValueError(f"start_row {start_row} outside 0..{output.rows_planned} for output "
                         f"{output.output_id!r}")
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
    stop = output.rows_planned
    if start_row == stop:
        return  # finished before a restart: its parts were verified and counted back then
    capped = stop < output.row_count
    decoder = _Decoder(output, batch_rows)
    base = 0  # index of the current part's first row
    for part in output.files:
        if capped and base >= stop:
            break
        pf = await load_part(reader, output, part)
        file_start, base = base, base + pf.metadata.num_rows
        if base > output.row_count:
            raise PackContentError(output.output_id, part.path,
                                   f"the parts hold more than the view's {output.row_count} rows")
        first, end = max(start_row, file_start), min(stop, base)
        if first >= end:
            continue
        for batch in decoder.decode(pf, part.path, file_start, first, end):
            yield batch
            await asyncio.sleep(0)  # let the agent's other tasks (sends, acks) run
    if base < stop:  # (more rows than the view was caught part by part above)
        raise PackContentError(output.output_id, None,
                               f"the parts hold {base} rows but the view says {output.row_count}")


async def read_output_rows(
    reader: PackReader,
    output: PlannedOutput,
    *,
    start_row: int = 0,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> AsyncGenerator[SourceRow, None]:
    """Row-by-row form of :func:`read_output_batches` (same arguments, same errors)."""
    batches = read_output_batches(reader, output, start_row=start_row, batch_rows=batch_rows)
    async with aclosing(batches):
        async for batch in batches:
            for row in batch:
                yield row


class _Decoder:
    """Decodes parts of one output into SourceRows, checking event-time order across parts."""

    def __init__(self, output: PlannedOutput, batch_rows: int) -> None:
        self.output = output
        self.batch_rows = batch_rows
        self.last_micros: int | None = None

    def decode(self, pf: pq.ParquetFile, path: str, file_start: int, first: int,
               end: int) -> Iterator[list[SourceRow]]:
        """Rows with indexes ``first .. end - 1`` of the part whose first row is ``file_start``."""
        names, ts_columns = self._check_schema(pf.schema_arrow, path)
        meta = pf.metadata
        skip = first - file_start
        row_group, group_start = 0, 0
        # Skip whole row groups by metadata: resuming never decodes rows it does not emit.
        while skip >= group_start + meta.row_group(row_group).num_rows:
            group_start += meta.row_group(row_group).num_rows
            row_group += 1
        skip -= group_start
        index = first
        groups = list(range(row_group, meta.num_row_groups))
        for record_batch in pf.iter_batches(batch_size=self.batch_rows, row_groups=groups,
                                            columns=names, use_threads=False):
            batch = record_batch
            if skip:
                if skip >= batch.num_rows:
                    skip -= batch.num_rows
                    continue
                batch, skip = batch.slice(skip), 0
            if index + batch.num_rows > end:
                batch = batch.slice(0, end - index)
            rows = self._rows(batch, names, ts_columns, path, index)
            index += len(rows)
            yield rows
            if index >= end:
                return

    def _check_schema(self, schema: pa.Schema, path: str) -> tuple[list[str], frozenset[str]]:
        out = self.output
        names = list(schema.names)
        missing = [c for c in (out.time_column, *out.primary_key) if c not in names]
        if missing:
            raise PackContentError(out.output_id, path, f"columns {missing} are missing")
        ts_columns = []
        for field in schema:
            if pa.types.is_timestamp(field.type):
                if field.type.tz not in ("UTC", "+00:00", "Etc/UTC"):
                    raise PackContentError(out.output_id, path,
                                           f"timestamp column {field.name!r} is not UTC "
                                           f"({field.type}); naive times are refused")
                ts_columns.append(field.name)
        if out.time_column not in ts_columns:
            raise PackContentError(out.output_id, path,
                                   f"time column {out.time_column!r} is not a timestamp")
        return names, frozenset(ts_columns)

    def _rows(self, batch: pa.RecordBatch, names: list[str], ts_columns: frozenset[str],
              path: str, index: int) -> list[SourceRow]:
        out = self.output
        # Column-wise to_pylist + zip is several times faster than RecordBatch.to_pylist().
        values = []
        for name, column in zip(names, batch.columns, strict=True):
            if name in ts_columns:
                column = column.cast(_US_UTC).cast(pa.int64())  # safe cast: refuses truncation
            values.append(column.to_pylist())
        rows: list[SourceRow] = []
        time_column, pk = out.time_column, out.primary_key
        ts_pk = [k for k in pk if k in ts_columns]
        last = self.last_micros
        for i, tup in enumerate(zip(*values, strict=True)):
            row = dict(zip(names, tup, strict=True))
            micros = row[time_column]
            if micros is None:
                raise PackContentError(out.output_id, path,
                                       f"row {index + i} has a null {time_column!r}")
            if last is not None and micros < last:
                raise PackContentError(out.output_id, path,
                                       f"row {index + i} is earlier than the row before it: "
                                       "rows are not in event-time order")
            last = micros
            pk_values = {k: row[k] for k in pk}
            if None in pk_values.values():
                raise PackContentError(out.output_id, path,
                                       f"row {index + i} has a null primary-key column")
            for k in ts_pk:
                pk_values[k] = epoch_micros_to_ts(pk_values[k])
            rows.append(SourceRow(out.output_id, index + i, micros, pk_values, row, ts_columns))
        self.last_micros = last
        return rows

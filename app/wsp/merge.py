"""One event-time stream from many outputs: a deterministic k-way merge.

This module keeps the stream-order rail of WSP: rows leave in non-decreasing event time, and
rows with equal time leave in ``(time, output_id, primary-key values)`` order, so the same plan
always produces the same sequence (and the same sequence of sends), whatever the batch sizes or
the reader's timing. Each source must already be in that order (parts are sorted by time, then
key); a source that goes backwards is refused, because merging it would silently reorder the
world.

The merge pulls one batch per source at a time, so memory is k batches, not k outputs.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

from app.oracle.pack_reader import PackReader
from app.wsp.errors import PackContentError
from app.wsp.row_source import DEFAULT_BATCH_ROWS, SourceRow, read_output_batches
from app.wsp.stream_plan import StreamPlan

__all__ = ["MergeKey", "merge_batches", "merge_key", "plan_rows"]

MergeKey = tuple[int, str, tuple[Any, ...]]
"""``(time_micros, output_id, primary-key values in key order)``: the total stream order."""


def merge_key(row: SourceRow) -> MergeKey:
    """The row's place in the merged stream."""
    return row.time_micros, row.output_id, tuple(row.pk_values.values())


class _Cursor:
    """The unread rest of one source: the current batch plus the batches still to come."""

    __slots__ = ("batches", "last_key", "rows")

    def __init__(self, batches: AsyncIterator[Sequence[SourceRow]]) -> None:
        self.batches = batches
        self.rows: Iterator[SourceRow] = iter(())
        self.last_key: MergeKey | None = None

    async def next(self) -> tuple[MergeKey, SourceRow] | None:
        row = next(self.rows, None)
        while row is None:
            batch = await anext(self.batches, None)
            if batch is None:
                return None
            self.rows = iter(batch)
            row = next(self.rows, None)
        key = merge_key(row)
        if self.last_key is not None and key < self.last_key:
            raise PackContentError(row.output_id, None,
                                   f"row {row.index} sorts before the row emitted ahead of it "
                                   "(rows must be ordered by event time, then primary key)")
        self.last_key = key
        return key, row


async def merge_batches(
    sources: Sequence[AsyncIterator[Sequence[SourceRow]]],
) -> AsyncGenerator[SourceRow, None]:
    """Merge per-output batch streams into one stream in :func:`merge_key` order.

    Args:
        sources: one batch iterator per output (e.g. :func:`read_output_batches`); two sources
            must not carry the same output.

    Raises:
        PackContentError: a source is out of order.
    """
    cursors = [_Cursor(batches) for batches in sources]
    heap: list[tuple[MergeKey, int, SourceRow]] = []
    try:
        for i, cursor in enumerate(cursors):
            head = await cursor.next()
            if head is not None:
                heap.append((head[0], i, head[1]))
        heapq.heapify(heap)
        while heap:
            _, i, row = heap[0]
            yield row
            head = await cursors[i].next()
            if head is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (head[0], i, head[1]))
    finally:
        # A consumer that stops early (cancel, error, cap) closes the readers now, not at GC.
        for batches in sources:
            aclose = getattr(batches, "aclose", None)
            if aclose is not None:
                await aclose()


async def plan_rows(
    reader: PackReader,
    plan: StreamPlan,
    *,
    start_rows: Mapping[str, int] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> AsyncGenerator[SourceRow, None]:
    """Every planned row of ``plan`` not yet done, merged into event-time order.

    Args:
        start_rows: rows already done per output_id (checkpoints' ``rows_done``); missing = 0.
        batch_rows: rows decoded per batch per output.

    Raises:
        KeyError: ``start_rows`` names an output the plan does not stream.
        PartDigestMismatchError, PackContentError: from the row sources and the merge.
    """
    start_rows = dict(start_rows or {})
    for output_id in start_rows:
        plan.output(output_id)  # an unknown output is a caller bug: fail before reading
    sources = [
        read_output_batches(reader, output, start_row=start_rows.get(output.output_id, 0),
                            batch_rows=batch_rows)
        for output in plan.outputs
    ]
    async with aclosing(merge_batches(sources)) as merged:
        async for row in merged:
            yield row

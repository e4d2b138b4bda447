"""Row source: verified parts, every row once in event-time order, resumable at a row index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from app.oracle.locator import parse_locator
from app.oracle.pack_reader import PackReader, open_pack
from app.rails.run_facts import RunFactsView
from app.wsp.errors import PackContentError, PartDigestMismatchError
from app.wsp.row_source import SourceRow, read_output_batches, read_output_rows
from app.wsp.stream_plan import PlannedOutput, StreamPlan, plan_for
from tests.unit.wsp.conftest import STREAMED, collect

ExpectedRows = Callable[[str], list[dict[str, Any]]]


def _pks(rows: list[SourceRow]) -> list[tuple[Any, ...]]:
    return [tuple(r.pk_values.values()) for r in rows]


@pytest.mark.parametrize("output_id", STREAMED)
async def test_every_row_of_an_output_comes_once_in_pack_order(
    reader: PackReader, plan: StreamPlan, pack_rows: ExpectedRows, output_id: str
) -> None:
    output = plan.output(output_id)
    rows = await collect(read_output_rows(reader, output))
    expected = pack_rows(output_id)
    assert len(rows) == output.row_count == len(expected)
    assert [r.row for r in rows] == expected
    assert [r.index for r in rows] == list(range(len(rows)))
    assert [r.time_micros for r in rows] == [e[output.time_column] for e in expected]
    assert _pks(rows) == [tuple(e[k] for k in output.primary_key) for e in expected]


@pytest.mark.parametrize("output_id", STREAMED)
async def test_rows_are_in_non_decreasing_event_time(
    reader: PackReader, plan: StreamPlan, output_id: str
) -> None:
    times = [r.time_micros for r in await collect(read_output_rows(reader, plan.output(output_id)))]
    assert times == sorted(times)


async def test_timestamps_are_epoch_micros_ints(reader: PackReader, plan: StreamPlan) -> None:
    rows = await collect(read_output_rows(reader, plan.output("label_event")))
    assert rows[0].timestamp_columns == {"effective_ts_utc", "observed_ts_utc"}
    for row in rows:
        assert type(row.row["observed_ts_utc"]) is int and type(row.row["effective_ts_utc"]) is int
        assert row.time_micros == row.row["observed_ts_utc"]


async def test_batch_size_does_not_change_the_rows(reader: PackReader, plan: StreamPlan) -> None:
    output = plan.output("clearing")
    default = await collect(read_output_rows(reader, output))
    tiny_batches = await collect(read_output_batches(reader, output, batch_rows=7))
    assert max(len(b) for b in tiny_batches) == 7
    assert [r for b in tiny_batches for r in b] == default


@pytest.mark.parametrize("output_id", ["auth_request", "clearing", "refund"])
async def test_resume_from_row_k_yields_exactly_the_remaining_rows(
    reader: PackReader, plan: StreamPlan, tiny_world: Path, output_id: str
) -> None:
    output = plan.output(output_id)
    full = await collect(read_output_rows(reader, output))
    first_part = pq.ParquetFile(tiny_world / output.files[0].path).metadata.num_rows
    # The start, inside a batch, around the first part boundary, the last row, the end.
    for k in sorted({0, 1, 5, first_part - 1, first_part, first_part + 1, len(full) - 1,
                     len(full)} & set(range(len(full) + 1))):
        rest = await collect(read_output_rows(reader, output, start_row=k, batch_rows=64))
        assert rest == full[k:], k


async def test_resume_outside_the_plan_is_refused(reader: PackReader, plan: StreamPlan) -> None:
    output = plan.output("reversal")
    with pytest.raises(ValueError, match="start_row"):
        await collect(read_output_rows(reader, output, start_row=output.rows_planned + 1))
    with pytest.raises(ValueError, match="start_row"):
        await collect(read_output_rows(reader, output, start_row=-1))


async def test_cap_keeps_the_first_n_rows_in_event_time_order(
    reader: PackReader, view: RunFactsView, plan: StreamPlan
) -> None:
    capped = plan_for(view, max_rows_per_output=800)
    for output in capped.outputs:
        full = await collect(read_output_rows(reader, plan.output(output.output_id)))
        rows = await collect(read_output_rows(reader, output))
        assert rows == full[:800]
        assert len(rows) == output.rows_planned == min(800, output.row_count)


async def test_cap_with_resume_stops_at_the_cap(
    reader: PackReader, view: RunFactsView, plan: StreamPlan
) -> None:
    output = plan_for(view, max_rows_per_output=100).output("auth_request")
    full = await collect(read_output_rows(reader, plan.output("auth_request")))
    assert await collect(read_output_rows(reader, output, start_row=40)) == full[40:100]


def _tamper(world: Path, output: PlannedOutput, part: int) -> str:
    path = output.files[part].path
    data = bytearray((world / path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (world / path).write_bytes(bytes(data))
    return path


async def test_a_tampered_part_is_refused_before_any_row_is_read(
    world_copy: Path, plan: StreamPlan
) -> None:
    output = plan.output("auth_request")
    path = _tamper(world_copy, output, 0)
    seen: list[SourceRow] = []
    with pytest.raises(PartDigestMismatchError) as caught:
        async for row in read_output_rows(open_pack(parse_locator(str(world_copy))), output):
            seen.append(row)
    assert seen == []
    err = caught.value
    assert (err.reason_code, err.output_id, err.path) == ("PART_DIGEST_MISMATCH", "auth_request",
                                                          path)
    assert path in str(err) and output.files[0].digest.hex in str(err)


async def test_resume_past_a_tampered_part_still_refuses_it(
    world_copy: Path, plan: StreamPlan
) -> None:
    output = plan.output("clearing")
    path = _tamper(world_copy, output, 0)
    with pytest.raises(PartDigestMismatchError, match=path):
        await collect(read_output_rows(open_pack(parse_locator(str(world_copy))), output,
                                       start_row=output.rows_planned - 1))


async def test_a_view_claiming_more_rows_than_the_pack_holds_is_caught(
    reader: PackReader, plan: StreamPlan
) -> None:
    output = plan.output("refund")
    inflated = output.model_copy(update={"row_count": output.row_count + 1,
                                         "rows_planned": output.rows_planned + 1})
    with pytest.raises(PackContentError, match="rows"):
        await collect(read_output_rows(reader, inflated))


async def test_a_view_claiming_fewer_rows_than_the_pack_holds_is_caught(
    reader: PackReader, plan: StreamPlan
) -> None:
    output = plan.output("refund")
    shrunk = output.model_copy(update={"row_count": output.row_count - 1,
                                       "rows_planned": output.rows_planned - 1})
    with pytest.raises(PackContentError, match="more than"):
        await collect(read_output_rows(reader, shrunk))


async def test_a_missing_time_column_is_caught(reader: PackReader, plan: StreamPlan) -> None:
    output = plan.output("reversal").model_copy(update={"time_column": "settled_ts_utc"})
    with pytest.raises(PackContentError, match="settled_ts_utc"):
        await collect(read_output_rows(reader, output))

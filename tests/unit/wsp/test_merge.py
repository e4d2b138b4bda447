"""Merge: one stream in (time, output_id, key) order, every planned row exactly once."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from app.oracle.pack_reader import PackReader
from app.rails.run_facts import RunFactsView
from app.wsp.errors import PackContentError
from app.wsp.merge import merge_batches, merge_key, plan_rows
from app.wsp.row_source import SourceRow, read_output_rows
from app.wsp.stream_plan import StreamPlan, plan_for
from tests.unit.wsp.conftest import collect


def _row(output_id: str, index: int, time_micros: int, pk: Any) -> SourceRow:
    return SourceRow(output_id, index, time_micros, {"id": pk}, {"id": pk, "t": time_micros},
                     frozenset({"t"}))


async def _batches(*batches: Sequence[SourceRow]) -> AsyncIterator[Sequence[SourceRow]]:
    for batch in batches:
        yield batch


def _is_non_decreasing_in_time(rows: list[SourceRow]) -> bool:
    return all(a.time_micros <= b.time_micros for a, b in itertools.pairwise(rows))


def _is_in_merge_key_order(rows: list[SourceRow]) -> bool:
    return all(merge_key(a) < merge_key(b) for a, b in itertools.pairwise(rows))


async def test_merged_stream_is_in_event_time_order_and_holds_every_row_once(
    reader: PackReader, plan: StreamPlan
) -> None:
    rows = await collect(plan_rows(reader, plan))
    assert len(rows) == plan.total_rows
    assert _is_non_decreasing_in_time(rows)
    assert _is_in_merge_key_order(rows)
    ids = Counter((r.output_id, tuple(r.pk_values.values())) for r in rows)
    assert len(ids) == plan.total_rows and set(ids.values()) == {1}
    assert Counter(r.output_id for r in rows) == {o.output_id: o.row_count for o in plan.outputs}


async def test_merge_keeps_each_outputs_own_order(reader: PackReader, plan: StreamPlan) -> None:
    merged = await collect(plan_rows(reader, plan, batch_rows=100))
    for output in plan.outputs:
        alone = await collect(read_output_rows(reader, output))
        assert [r for r in merged if r.output_id == output.output_id] == alone


async def test_merge_is_deterministic_whatever_the_batch_size(
    reader: PackReader, plan: StreamPlan
) -> None:
    assert await collect(plan_rows(reader, plan, batch_rows=3)) == await collect(
        plan_rows(reader, plan))


async def test_cap_keeps_the_first_n_rows_of_every_output(
    reader: PackReader, view: RunFactsView, plan: StreamPlan
) -> None:
    full = await collect(plan_rows(reader, plan))
    capped = await collect(plan_rows(reader, plan_for(view, max_rows_per_output=20)))
    for output in plan.outputs:
        expected = [r for r in full if r.output_id == output.output_id][:20]
        assert [r for r in capped if r.output_id == output.output_id] == expected
    assert _is_non_decreasing_in_time(capped)


async def test_resume_from_checkpoints_yields_exactly_the_remaining_rows(
    reader: PackReader, plan: StreamPlan
) -> None:
    full = await collect(plan_rows(reader, plan))
    done = {"auth_request": 700, "clearing": 1, "label_event": plan.output("label_event").row_count}
    rest = await collect(plan_rows(reader, plan, start_rows=done))
    assert rest == [r for r in full if r.index >= done.get(r.output_id, 0)]


async def test_resume_naming_an_unplanned_output_is_refused(
    reader: PackReader, plan: StreamPlan
) -> None:
    with pytest.raises(KeyError):
        await collect(plan_rows(reader, plan, start_rows={"flow_truth": 1}))


async def test_ties_break_by_output_id_then_primary_key() -> None:
    a = [_row("refund", 0, 10, "r1"), _row("refund", 1, 20, "r0"), _row("refund", 2, 20, "r2")]
    b = [_row("clearing", 0, 20, "c9"), _row("clearing", 1, 20, "z0")]
    c = [_row("auth_request", 0, 5, "f1"), _row("auth_request", 1, 20, "f0")]
    merged = await collect(merge_batches([_batches(a[:2], a[2:]), _batches(b), _batches(c)]))
    assert [(r.output_id, r.pk_values["id"]) for r in merged] == [
        ("auth_request", "f1"), ("refund", "r1"), ("auth_request", "f0"), ("clearing", "c9"),
        ("clearing", "z0"), ("refund", "r0"), ("refund", "r2")]


async def test_empty_sources_and_empty_batches_are_skipped() -> None:
    rows = [_row("clearing", 0, 1, "c0"), _row("clearing", 1, 2, "c1")]
    merged = await collect(merge_batches([_batches(), _batches([], rows[:1], [], rows[1:])]))
    assert merged == rows


async def test_a_source_that_goes_back_in_time_is_refused() -> None:
    rows = [_row("clearing", 0, 20, "c0"), _row("clearing", 1, 10, "c1")]
    with pytest.raises(PackContentError, match="row 1"):
        await collect(merge_batches([_batches(rows)]))


async def test_stopping_early_closes_the_readers() -> None:
    closed: list[bool] = []

    async def source() -> AsyncIterator[Sequence[SourceRow]]:
        try:
            yield [_row("clearing", 0, 1, "c0")]
            yield [_row("clearing", 1, 2, "c1")]
        finally:
            closed.append(True)

    merged = merge_batches([source()])
    assert (await anext(merged)).index == 0
    await merged.aclose()
    assert closed == [True]

"""A run's plausible event-time window from its run_facts_view (issue #11 item 1)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import pytest

from app.ig.event_time import EventTimeWindow, declared_span, event_time_window
from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.rails.digests import digest_bytes
from app.rails.run_facts import FactFile, FactOutput, RunFactsView
from app.rails.timefmt import ts_to_epoch_micros
from app.wsp.merge import plan_rows
from app.wsp.stream_plan import plan_for
from tests.unit.wsp.conftest import build_view, collect

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


@pytest.fixture(scope="module")
def view(tiny_world: Path) -> RunFactsView:
    return build_view(tiny_world)


def _with_outputs(view: RunFactsView, *outputs: FactOutput) -> RunFactsView:
    return view.model_copy(update={"outputs": outputs})


Role = Literal["business_traffic", "label_feed", "truth", "reference"]


def _output(output_id: str, days: list[str], *, role: Role = "business_traffic",
            streamed: bool = True) -> FactOutput:
    files = tuple(FactFile(path=f"outputs/{output_id}/utc_day={day}/part-00000.parquet",
                           digest=digest_bytes(day.encode()), size_bytes=1) for day in days)
    return FactOutput(output_id=output_id, role=role, streamed=streamed,
                      event_type=output_id if streamed else None,
                      schema_version="v1" if streamed else None,
                      time_column="ts_utc" if streamed else None, primary_key=("id",),
                      row_count=len(days), gate_id="g", files=files)


def test_every_streamed_row_of_a_real_world_lies_in_its_window_without_skew(
        tiny_world: Path, view: RunFactsView) -> None:
    window = event_time_window(view, skew_s=0)
    assert window is not None
    plan = plan_for(view)
    rows = asyncio.run(collect(plan_rows(open_pack(parse_locator(str(tiny_world))), plan)))
    times = [row.time_micros for row in rows]
    assert len(times) > 1000 and all(window.contains(t) for t in times)
    # the span is the world's: its first row falls on the first utc_day
    assert min(times) // DAY_US * DAY_US == window.start_us


def test_span_runs_from_the_first_utc_day_to_the_end_of_the_last(view: RunFactsView) -> None:
    outs = _with_outputs(view, _output("auth_request", ["2025-03-04", "2025-03-03"]),
                         _output("refund", ["2025-03-03", "2025-03-20"]))
    window = event_time_window(outs, skew_s=0)
    assert window is not None
    assert (window.first_utc_day, window.last_utc_day) == ("2025-03-03", "2025-03-20")
    assert window.start_us == ts_to_epoch_micros("2025-03-03T00:00:00.000000Z")
    assert window.end_us == ts_to_epoch_micros("2025-03-21T00:00:00.000000Z")


def test_label_outputs_widen_the_span_and_truth_or_reference_do_not(view: RunFactsView) -> None:
    outs = _with_outputs(
        view, _output("auth_request", ["2025-03-03"]),
        _output("label_event", ["2025-03-03", "2025-04-30"], role="label_feed"),
        _output("flow_truth", ["2024-01-01", "2026-01-01"], role="truth", streamed=False),
        _output("cards", ["2020-01-01"], role="reference", streamed=False))
    assert declared_span(outs) is not None
    window = event_time_window(outs, skew_s=0)
    assert window is not None
    assert (window.first_utc_day, window.last_utc_day) == ("2025-03-03", "2025-04-30")


def test_skew_widens_both_sides(view: RunFactsView) -> None:
    outs = _with_outputs(view, _output("auth_request", ["2025-03-03"]))
    narrow = event_time_window(outs, skew_s=0)
    wide = event_time_window(outs, skew_s=3600)
    assert narrow is not None and wide is not None
    assert (wide.start_us, wide.end_us) == (narrow.start_us - HOUR_US, narrow.end_us + HOUR_US)
    first, end = narrow.start_us - HOUR_US, narrow.end_us + HOUR_US
    assert wide.contains(first) and not wide.contains(first - 1)
    assert wide.contains(end - 1) and not wide.contains(end)


def test_a_run_that_streams_nothing_declares_no_window(view: RunFactsView) -> None:
    outs = _with_outputs(view, _output("cards", ["2025-03-03"], role="reference", streamed=False))
    assert event_time_window(outs, skew_s=3600) is None


def test_a_negative_skew_is_refused(view: RunFactsView) -> None:
    with pytest.raises(ValueError, match="skew_s"):
        event_time_window(view, skew_s=-1)


def test_the_window_describes_itself_in_wire_timestamps() -> None:
    window = EventTimeWindow(first_utc_day="2025-03-03", last_utc_day="2025-03-04", skew_s=60,
                             start_us=ts_to_epoch_micros("2025-03-02T23:59:00.000000Z"),
                             end_us=ts_to_epoch_micros("2025-03-05T00:01:00.000000Z"))
    assert window.describe() == ("[2025-03-02T23:59:00.000000Z, 2025-03-05T00:01:00.000000Z) = "
                                 "utc_days 2025-03-03..2025-03-04 widened by 60 s")

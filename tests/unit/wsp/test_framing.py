"""Framing: stable engine event ids, ts_utc = event time, no truth, every envelope parses."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.rails.canonical_json import canonical_loads
from app.rails.envelope import CanonicalEnvelope, dump_envelope, parse_envelope
from app.rails.errors import ContractError
from app.rails.partition_key import derive_partition_key
from app.rails.run_facts import RunFactsView
from app.rails.timefmt import epoch_micros_to_ts, ts_to_epoch_micros
from app.wsp.framing import PRODUCER, frame, ingress_record
from app.wsp.merge import plan_rows
from app.wsp.row_source import SourceRow
from app.wsp.stream_plan import StreamPlan, plan_for
from tests.unit.wsp.conftest import collect

T_EMIT = 1_900_000_000_123_456


def _clock(start: int = T_EMIT) -> Iterator[int]:
    return itertools.count(start, 1000)


@pytest.fixture(scope="module")
def rows(tiny_world: Path, plan: StreamPlan) -> list[SourceRow]:
    reader = open_pack(parse_locator(str(tiny_world)))
    return asyncio.run(collect(plan_rows(reader, plan)))


def _frame_all(rows: list[SourceRow], plan: StreamPlan,
               context: Any = None) -> list[CanonicalEnvelope]:
    clock = _clock()
    return [frame(r, plan.output(r.output_id), context or plan, now_micros=lambda: next(clock))
            for r in rows]


@pytest.fixture(scope="module")
def envelopes(rows: list[SourceRow], plan: StreamPlan) -> list[CanonicalEnvelope]:
    return _frame_all(rows, plan)


def _other_run(view: RunFactsView) -> RunFactsView:
    run_id = "0123456789abcdef" * 2
    return view.model_copy(update={"run_id": run_id,
                                   "pins": view.pins.model_copy(update={"run_id": run_id})})


def test_every_envelope_passes_parse_envelope_and_round_trips(
    envelopes: list[CanonicalEnvelope],
) -> None:
    for envelope in envelopes:
        assert parse_envelope(dump_envelope(envelope)) == envelope


def test_event_ids_are_unique_and_stable_across_framings(
    rows: list[SourceRow], plan: StreamPlan, envelopes: list[CanonicalEnvelope]
) -> None:
    ids = [e.event_id for e in envelopes]
    assert len(set(ids)) == len(ids)
    assert [e.event_id for e in _frame_all(rows, plan)] == ids


def test_event_ids_do_not_depend_on_the_run(
    rows: list[SourceRow], view: RunFactsView, envelopes: list[CanonicalEnvelope]
) -> None:
    other = plan_for(_other_run(view))
    reframed = _frame_all(rows, other)
    assert [e.event_id for e in reframed] == [e.event_id for e in envelopes]
    assert {e.run_id for e in reframed} == {other.run_id} != {e.run_id for e in envelopes}


def test_framing_from_the_view_equals_framing_from_the_plan(
    rows: list[SourceRow], view: RunFactsView, plan: StreamPlan,
    envelopes: list[CanonicalEnvelope],
) -> None:
    assert _frame_all(rows[:50], plan, context=view) == envelopes[:50]


def test_ts_utc_is_the_rows_event_time_and_pins_are_the_runs(
    rows: list[SourceRow], plan: StreamPlan, envelopes: list[CanonicalEnvelope]
) -> None:
    for row, envelope in zip(rows, envelopes, strict=True):
        output = plan.output(row.output_id)
        assert ts_to_epoch_micros(envelope.ts_utc) == row.time_micros
        assert ts_to_epoch_micros(envelope.ts_utc) == row.row[output.time_column]
        assert (envelope.event_type, envelope.schema_version) == (output.event_type,
                                                                  output.schema_version)
        assert envelope.pins() == plan.pins and envelope.seed == plan.seed
        assert envelope.producer == PRODUCER


def test_emitted_at_comes_from_the_injected_clock_and_never_touches_ts_utc(
    rows: list[SourceRow], plan: StreamPlan
) -> None:
    row, output = rows[0], plan.output(rows[0].output_id)
    early = frame(row, output, plan, now_micros=lambda: T_EMIT)
    late = frame(row, output, plan, now_micros=lambda: T_EMIT + 3_600_000_000)
    assert early.emitted_at_utc == epoch_micros_to_ts(T_EMIT)
    assert late.emitted_at_utc == epoch_micros_to_ts(T_EMIT + 3_600_000_000)
    assert (early.ts_utc, early.event_id, early.payload) == (late.ts_utc, late.event_id,
                                                             late.payload)


def test_payload_is_every_other_column_with_wire_timestamps_and_nulls_kept(
    rows: list[SourceRow], plan: StreamPlan, envelopes: list[CanonicalEnvelope]
) -> None:
    for row, envelope in zip(rows, envelopes, strict=True):
        output = plan.output(row.output_id)
        assert set(envelope.payload) == set(row.row) - {output.time_column}
        for name, value in envelope.payload.items():
            if name in row.timestamp_columns:
                assert value == epoch_micros_to_ts(row.row[name])
            else:
                assert value == row.row[name]
    auth = [e for e in envelopes if e.event_type == "auth_request"]
    assert any(e.payload["device_id"] is None for e in auth)  # card-present: null, not absent
    assert any(b'"device_id":null' in dump_envelope(e) for e in auth)


def test_label_events_keep_their_effective_time_in_the_payload(
    envelopes: list[CanonicalEnvelope],
) -> None:
    labels = [e for e in envelopes if e.event_type == "label_event"]
    assert labels
    for label in labels:
        assert ts_to_epoch_micros(label.payload["effective_ts_utc"]) <= ts_to_epoch_micros(
            label.ts_utc)


def test_no_truth_column_reaches_any_payload(
    tiny_world: Path, manifest: dict[str, Any], envelopes: list[CanonicalEnvelope]
) -> None:
    truth = next(o for o in manifest["outputs"] if o["output_id"] == "flow_truth")
    truth_columns = set(pq.read_schema(tiny_world / truth["files"][0]).names)
    streamed_columns = set().union(*(set(e.payload) for e in envelopes))
    truth_only = truth_columns - {"flow_id", "ts_utc"}
    assert truth_only >= {"is_fraud_or_abuse", "subtype", "campaign_id", "issuer_approved"}
    assert streamed_columns & truth_only == set()
    assert {e.event_type for e in envelopes} == {"auth_request", "clearing", "refund", "reversal",
                                                 "label_event"}


def test_ingress_record_is_keyed_by_the_traffic_partition_key(
        envelopes: list[CanonicalEnvelope]) -> None:
    precedence = ("card_id", "account_id", "customer_id", "merchant_id")
    for envelope in envelopes[:200]:
        key, value = ingress_record(envelope, precedence)
        assert key == derive_partition_key(envelope, precedence).encode()
        assert value == dump_envelope(envelope)
        assert canonical_loads(value)["event_id"] == envelope.event_id


def test_a_row_framed_as_another_output_is_refused(
    rows: list[SourceRow], plan: StreamPlan
) -> None:
    row = next(r for r in rows if r.output_id == "clearing")
    with pytest.raises(ContractError, match="clearing"):
        frame(row, plan.output("auth_request"), plan, now_micros=lambda: T_EMIT)

"""Training: the time split, input checks, and the same bytes from the same data and parameters."""

from __future__ import annotations

import io
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.factory.factory import FactoryResult
from app.factory.train import FactoryInputError, TrainParams, split_by_time
from tests.unit.factory.conftest import FEATURES, make_table, run


def test_the_same_table_and_parameters_give_the_same_model_bytes(
        table: pa.Table, result: FactoryResult) -> None:
    again = run(table)
    assert again.model_text == result.model_text
    assert again.bundle_fields == result.bundle_fields
    assert again.metrics.keys() == result.metrics.keys()
    assert all(again.metrics[k] == v or (math.isnan(v) and math.isnan(again.metrics[k]))
               for k, v in result.metrics.items())


def test_parquet_bytes_and_row_order_do_not_change_the_model(
        table: pa.Table, result: FactoryResult) -> None:
    reversed_rows = table.take(pa.array(np.arange(table.num_rows)[::-1]))
    sink = io.BytesIO()
    pq.write_table(reversed_rows, sink)
    assert run(sink.getvalue()).model_text == result.model_text


def test_other_parameters_give_another_model(table: pa.Table, result: FactoryResult) -> None:
    other = run(table, params=TrainParams(num_boost_round=50))
    assert other.model_text != result.model_text
    assert other.bundle_fields["lineage"]["params"]["train.num_boost_round"] == 50


def _train_rows(table: pa.Table, fraction: float) -> int:
    """Rows before ``first + fraction * span`` of event time (brute force)."""
    ts = np.sort(np.asarray(table.column("ts_us")))
    return int((ts < ts[0] + math.ceil(fraction * (int(ts[-1]) - int(ts[0])))).sum())


def test_the_split_is_by_event_time_and_the_test_part_is_strictly_later(
        table: pa.Table) -> None:
    split = split_by_time(table, FEATURES, 0.8)
    train = _train_rows(table, 0.8)
    assert 3_900 < train < 4_100  # evenly spread times: about 80 % of the rows too
    assert (len(split.y_train), len(split.y_test)) == (train, 5_000 - train)
    assert split.ts_train.max() < split.ts_test.min() == split.boundary_ts_us
    assert (np.diff(split.ts_train) >= 0).all() and (np.diff(split.ts_test) >= 0).all()


def test_the_result_reports_the_split(table: pa.Table, result: FactoryResult) -> None:
    ts = np.sort(np.asarray(table.column("ts_us")))
    train = _train_rows(table, 0.8)
    assert (result.train_rows, result.test_rows) == (train, 5_000 - train)
    assert result.split_ts_us == ts[train] and result.test_to_ts_us == ts[-1]
    assert result.split_ts_utc.endswith("Z")


def test_rows_sharing_the_boundary_time_all_go_to_the_test_part() -> None:
    table = make_table(100, seed=3)
    ts = 1_700_000_000_000_000 + np.arange(100, dtype=np.int64) * 1_000_000  # one a second
    ts[78:83] = ts[80]  # rows 78..82 share the time at 80 s; the boundary is at 79.2 s
    table = table.set_column(table.column_names.index("ts_us"), "ts_us",
                             pa.array(ts, type=pa.int64()))
    split = split_by_time(table, FEATURES, 0.8)
    assert len(split.y_train) == 78
    assert split.ts_train.max() < split.ts_test.min()


def test_rows_at_one_event_time_are_ordered_by_trigger_event_id() -> None:
    table = make_table(600, seed=5)
    ts = np.asarray(table.column("ts_us")) // 20_000_000  # many rows share an event time
    table = table.set_column(table.column_names.index("ts_us"), "ts_us",
                             pa.array(ts.astype(np.int64)))
    assert len(np.unique(ts)) < 400
    backwards = table.take(pa.array(np.arange(table.num_rows)[::-1]))
    params = TrainParams(num_boost_round=20, min_data_in_leaf=5)
    assert run(table, params=params).model_text == run(backwards, params=params).model_text


def test_a_table_at_one_event_time_has_no_training_part() -> None:
    table = make_table(200, seed=5)
    table = table.set_column(table.column_names.index("ts_us"), "ts_us",
                             pa.array(np.full(200, 7, dtype=np.int64)))
    with pytest.raises(FactoryInputError, match="no training rows"):
        split_by_time(table, FEATURES, 0.8)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.drop_columns(["incumbent_outcome"]), "columns missing"),
    (lambda t: t.drop_columns(["card.count_1h"]), "columns missing"),
    (lambda t: t.set_column(t.column_names.index("card.count_1h"), "card.count_1h",
                            pa.array(["x"] * t.num_rows)), "float64"),
    (lambda t: t.set_column(t.column_names.index("label"), "label",
                            pa.array(np.zeros(t.num_rows, dtype=np.int8))), "both positive"),
    (lambda t: t.set_column(t.column_names.index("label"), "label",
                            pa.array(np.full(t.num_rows, 2, dtype=np.int8))), "0 or 1"),
])
def test_a_table_that_cannot_be_trained_on_is_refused(change: object, message: str) -> None:
    with pytest.raises(FactoryInputError, match=message):
        split_by_time(change(make_table(300)), FEATURES, 0.8)  # type: ignore[operator]


@pytest.mark.parametrize("name", ["a,b", "a b", "a:b", 'a"b', "label"])
def test_feature_names_lightgbm_would_change_are_refused(name: str) -> None:
    table = make_table(300, features=[*FEATURES[:-1], name])
    with pytest.raises(FactoryInputError, match="cannot keep"):
        split_by_time(table, [*FEATURES[:-1], name], 0.8)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_a_split_without_a_test_part_is_refused(fraction: float) -> None:
    with pytest.raises(FactoryInputError):
        split_by_time(make_table(300), FEATURES, fraction)


def test_early_stopping_uses_the_tail_of_the_training_part_and_stays_deterministic(
        table: pa.Table) -> None:
    params = TrainParams(early_stopping_rounds=20)
    first, second = run(table, params=params), run(table, params=params)
    assert first.model_text == second.model_text
    assert 1 <= first.num_rounds < params.num_boost_round
    assert first.bundle_fields["lineage"]["params"]["num_rounds"] == first.num_rounds


def test_a_null_incumbent_score_reads_as_missing() -> None:
    table = make_table(300)
    scores = table.column("incumbent_score").to_pylist()
    scores[::3] = [None] * len(scores[::3])
    table = table.set_column(table.column_names.index("incumbent_score"), "incumbent_score",
                             pa.array(scores, type=pa.float64()))
    split = split_by_time(table, FEATURES, 0.8)
    assert np.isnan(split.incumbent_score).sum() >= 20

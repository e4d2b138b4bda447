"""Pinned LightGBM training on a time split of a dataset table.

The dataset table (Parquet, written by the dataset builder beside its DatasetManifest) has the
metadata columns of :data:`METADATA_COLUMNS` and then one float64 column per feature, named by the
feature. Rows are ordered by event time ``(ts_us, trigger_event_id)``; the first
``train_fraction`` of them train, the rest test. Rows that share the boundary's ``ts_us`` all go
to the test part, so every test row is strictly later than every training row.

Determinism: the hyper-parameters are a frozen :class:`TrainParams`; LightGBM runs with
``deterministic=True``, one thread, row-wise histograms and a fixed seed, so the same table and
parameters give byte-identical model text (``booster.model_to_string()``; never a pickle).
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "METADATA_COLUMNS",
    "FactoryInputError",
    "SplitData",
    "TrainParams",
    "TrainedModel",
    "load_table",
    "predict",
    "split_by_time",
    "train_model",
]

METADATA_COLUMNS: tuple[str, ...] = (
    "run_id", "flow_id", "trigger_event_id", "ts_utc", "ts_us", "label", "incumbent_score",
    "incumbent_outcome", "incumbent_bundle",
)
"""The dataset's metadata columns, before the feature columns."""

_UNSAFE_NAME_CHARS = frozenset(' \t\n\r[]{}",:\\')
"""Characters LightGBM refuses (JSON specials) or rewrites (whitespace) in a feature name."""

Float64Array = npt.NDArray[np.float64]


class FactoryInputError(ValueError):
    """The dataset table cannot be trained on (missing columns, wrong types, too few rows)."""


@dataclass(frozen=True)
class TrainParams:
    """Pinned hyper-parameters (lineage records them all).

    Defaults suit imbalanced fraud data: a binary objective without class re-weighting (so scores
    stay probabilities for the bands), 600 rounds at learning rate 0.03, leaves of at least 50
    rows, 90 % of features per tree, no bagging. The rate and rounds were chosen on a validation
    slice of the ULB data's *training* part (the last 20 % of it by time), never on its test part:
    validation AP 0.771 against 0.760 for 300 rounds at 0.05 (``bench/`` has no tuning loop; the
    numbers are in the README). ``early_stopping_rounds > 0`` carves the last
    ``validation_fraction`` of the *training* part (by time) as a validation slice, finds the best
    round count on it, then refits on the whole training part with that many rounds; the test
    part is never looked at.
    """

    objective: str = "binary"
    learning_rate: float = 0.03
    num_leaves: int = 31
    min_data_in_leaf: int = 50
    feature_fraction: float = 0.9
    bagging_fraction: float = 1.0
    bagging_freq: int = 0
    lambda_l2: float = 1.0
    max_bin: int = 255
    num_boost_round: int = 600
    early_stopping_rounds: int = 0
    validation_fraction: float = 0.1
    seed: int = 20260101

    def __post_init__(self) -> None:
        if self.num_boost_round < 1:
            raise ValueError("num_boost_round must be >= 1")
        if self.early_stopping_rounds < 0:
            raise ValueError("early_stopping_rounds must be >= 0")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError("validation_fraction must be in (0, 1)")

    def lightgbm_params(self) -> dict[str, Any]:
        """The parameter dict handed to ``lightgbm.train`` (rounds are passed separately)."""
        return {
            "objective": self.objective,
            "metric": "binary_logloss",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": self.bagging_freq,
            "lambda_l2": self.lambda_l2,
            "max_bin": self.max_bin,
            "seed": self.seed,
            "deterministic": True,
            "num_threads": 1,
            "force_row_wise": True,
            "verbose": -1,
        }

    def as_dict(self) -> dict[str, Any]:
        """Every field, as plain JSON values."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class SplitData:
    """The table in event-time order, split into an earlier training and a later test part."""

    features: tuple[str, ...]
    x_train: Float64Array
    y_train: npt.NDArray[np.int8]
    x_test: Float64Array
    y_test: npt.NDArray[np.int8]
    ts_train: npt.NDArray[np.int64]
    ts_test: npt.NDArray[np.int64]
    incumbent_score: Float64Array
    """Test rows only; NaN where the incumbent made a rules-only decision."""
    incumbent_outcome: tuple[str, ...]
    """Test rows only."""

    @property
    def boundary_ts_us(self) -> int:
        """The first test row's event time: every training row is strictly earlier."""
        return int(self.ts_test[0])


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """LightGBM's text model and how it was fitted."""

    model_text: bytes
    num_rounds: int
    """Rounds in the final model (``num_boost_round``, or the early-stopping best)."""
    importance_gain: tuple[float, ...]
    """Total gain per feature, in input order."""


def load_table(data: pa.Table | bytes) -> pa.Table:
    """The dataset as a pyarrow Table (Parquet bytes are read in memory)."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        return pq.read_table(io.BytesIO(bytes(data)))
    raise FactoryInputError(f"expected a pyarrow Table or Parquet bytes, got {type(data).__name__}")


def _check(table: pa.Table, features: list[str]) -> None:
    if not features:
        raise FactoryInputError("no features")
    if len(set(features)) != len(features):
        raise FactoryInputError("features repeat")
    bad = sorted(f for f in features if f in METADATA_COLUMNS or _UNSAFE_NAME_CHARS & set(f))
    if bad:
        raise FactoryInputError(f"feature names LightGBM cannot keep as they are: {bad}")
    names = set(table.column_names)
    missing = [c for c in (*METADATA_COLUMNS, *features) if c not in names]
    if missing:
        raise FactoryInputError(f"columns missing from the dataset: {missing}")
    not_float = [f for f in features if not pa.types.is_floating(table.schema.field(f).type)]
    if not_float:
        raise FactoryInputError(f"feature columns must be float64: {not_float}")
    if not pa.types.is_integer(table.schema.field("ts_us").type):
        raise FactoryInputError("ts_us must be an integer column")
    if table.column("label").null_count or table.column("ts_us").null_count:
        raise FactoryInputError("label and ts_us must not be null")


def split_by_time(table: pa.Table, features: list[str], train_fraction: float) -> SplitData:
    """Sort by ``(ts_us, trigger_event_id)`` and split at ``train_fraction`` of the event-time
    span: rows before ``first + train_fraction * (last - first)`` train, the rest test ("train on
    the first 80 % of event time"). A row at the boundary time tests.

    Raises:
        FactoryInputError: bad columns, or a part without rows, or a training part without both
            labels.
    """
    if not 0.0 < train_fraction < 1.0:
        raise FactoryInputError("train_fraction must be in (0, 1)")
    _check(table, features)
    order = pc.sort_indices(table, sort_keys=[("ts_us", "ascending"),
                                              ("trigger_event_id", "ascending")])
    table = table.take(order)
    n = table.num_rows
    ts = np.asarray(table.column("ts_us").to_numpy(), dtype=np.int64)
    labels = np.asarray(table.column("label").to_numpy(), dtype=np.int8)
    if not set(np.unique(labels).tolist()) <= {0, 1}:
        raise FactoryInputError("label must be 0 or 1")
    boundary = int(ts[0]) + math.ceil(train_fraction * (int(ts[-1]) - int(ts[0])))
    cut = int(np.searchsorted(ts, boundary, side="left"))  # ties at the boundary go to test
    if cut >= n:
        raise FactoryInputError(f"no test rows: {n} rows over one event time, or "
                                f"train_fraction {train_fraction} leaves none after it")
    if cut == 0:
        raise FactoryInputError("no training rows before the split boundary")
    y_train = labels[:cut]
    if y_train.min() == y_train.max():
        raise FactoryInputError("the training part needs both positive and negative labels")
    x = np.column_stack([np.asarray(table.column(f).to_numpy(zero_copy_only=False),
                                    dtype=np.float64) for f in features])
    inc = table.column("incumbent_score").slice(cut)
    inc_scores = np.asarray(pc.fill_null(inc.cast(pa.float64()), math.nan).to_numpy(),
                            dtype=np.float64)
    outcomes = tuple(str(o) if o is not None else ""
                     for o in table.column("incumbent_outcome").slice(cut).to_pylist())
    return SplitData(
        features=tuple(features),
        x_train=x[:cut], y_train=y_train, x_test=x[cut:], y_test=labels[cut:],
        ts_train=ts[:cut], ts_test=ts[cut:],
        incumbent_score=inc_scores, incumbent_outcome=outcomes,
    )


def train_model(x: Float64Array, y: npt.NDArray[np.int8], features: tuple[str, ...],
                params: TrainParams) -> TrainedModel:
    """Fit LightGBM on rows in event-time order (the validation slice, if any, is the tail)."""
    import lightgbm as lgb

    lgb_params = params.lightgbm_params()
    rounds = params.num_boost_round
    if params.early_stopping_rounds:
        cut = len(y) - max(1, math.floor(params.validation_fraction * len(y)))
        fit = lgb.Dataset(x[:cut], label=y[:cut], feature_name=list(features), params=lgb_params)
        valid = lgb.Dataset(x[cut:], label=y[cut:], reference=fit)
        probe = lgb.train(lgb_params, fit, num_boost_round=rounds, valid_sets=[valid],
                          callbacks=[lgb.early_stopping(params.early_stopping_rounds,
                                                        verbose=False)])
        rounds = max(1, int(probe.best_iteration or rounds))
    full = lgb.Dataset(x, label=y, feature_name=list(features), params=lgb_params)
    booster = lgb.train(lgb_params, full, num_boost_round=rounds)
    text = booster.model_to_string()
    gains = booster.feature_importance(importance_type="gain")
    return TrainedModel(model_text=text.encode("utf-8"), num_rounds=rounds,
                        importance_gain=tuple(float(g) for g in gains))


def predict(model_text: bytes, x: Float64Array) -> Float64Array:
    """Probabilities from the shipped artefact itself (the text model, reloaded)."""
    import lightgbm as lgb

    booster = lgb.Booster(model_str=model_text.decode("utf-8"))
    return np.asarray(booster.predict(x), dtype=np.float64)


OOF_FOLDS = 4
"""Contiguous event-time blocks of the training part for :func:`out_of_fold_scores`."""


def out_of_fold_scores(x: Float64Array, y: npt.NDArray[np.int8], features: tuple[str, ...],
                       params: TrainParams, folds: int = OOF_FOLDS) -> Float64Array:
    """Each training row scored by a model that did not see it: the training part cut into
    ``folds`` contiguous time blocks, each block scored by a model trained on the others with the
    same parameters. The bands are picked on these scores, because a model's scores on its own
    training rows are optimistic (a band tuned on them lets more legitimate traffic through on
    new data than its target). A block whose complement lacks a label is scored by the nearest
    model that has both (the whole part, at worst)."""
    n = len(y)
    edges = [round(n * k / folds) for k in range(folds + 1)]
    scores = np.full(n, np.nan, dtype=np.float64)
    for k in range(folds):
        lo, hi = edges[k], edges[k + 1]
        if lo == hi:
            continue
        rest = np.r_[0:lo, hi:n]
        if len(rest) == 0 or y[rest].min() == y[rest].max():
            rest = np.arange(n)
        model = train_model(x[rest], y[rest], features, params)
        scores[lo:hi] = predict(model.model_text, x[lo:hi])
    return scores

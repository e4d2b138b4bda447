"""The Model Factory's one call: dataset table in, model text + bundle fields + evaluation out.

:func:`train_and_evaluate` splits the table by event time, trains LightGBM with pinned parameters
on the earlier part, picks the score bands from the policy targets on the training part's
legitimate rows, scores the later part with the text model as shipped, and compares the candidate
with the incumbent on exactly those rows. :func:`write_report` writes the HTML report, its PNG
charts and ``metrics.json``. Neither reads a clock or the environment: the same table, features
and parameters give the same bytes (model text, bundle fields, metrics).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from app.factory.bands import Bands, BandTargets, band_rates, pick_bands
from app.factory.metrics import Evaluation, evaluate
from app.factory.report import write_report
from app.factory.train import (
    TrainParams,
    load_table,
    out_of_fold_scores,
    predict,
    split_by_time,
    train_model,
)
from app.rails.timefmt import epoch_micros_to_ts

__all__ = ["DEFAULT_TRAIN_FRACTION", "FactoryResult", "train_and_evaluate", "write_report"]

DEFAULT_TRAIN_FRACTION = 0.8


@dataclass(frozen=True, eq=False)
class FactoryResult:
    """What one factory run produced; ``bundle_fields`` is what the registry turns into a bundle."""

    model_text: bytes
    bundle_fields: dict[str, Any]
    evaluation: Evaluation
    bands: Bands
    train_band_rates: dict[str, float]
    """Share of legitimate training rows, scored out of fold, at or above each band
    (cumulative): what the bands were picked on."""
    dataset_id: str
    features: tuple[str, ...]
    importance_gain: tuple[float, ...]
    num_rounds: int
    train_rows: int
    test_rows: int
    split_ts_us: int
    """The first test row's event time; every training row is strictly earlier."""
    test_to_ts_us: int
    """The last test row's event time."""
    test_labels: npt.NDArray[np.int8]
    candidate_scores: npt.NDArray[np.float64]
    incumbent_scores: npt.NDArray[np.float64]
    """As in the dataset: NaN where the incumbent decided by rules only."""
    metrics: dict[str, float]
    """Every metric, flat and sorted by name (NaN: undefined on these rows): the evaluation's
    (``candidate.*``, ``incumbent.*``, ``test.*``) and the training part's (``train.*``)."""

    @property
    def split_ts_utc(self) -> str:
        """:attr:`split_ts_us` as the platform's UTC timestamp text."""
        return epoch_micros_to_ts(self.split_ts_us)


def _digest(data: bytes) -> dict[str, str]:
    return {"algo": "sha256", "hex": hashlib.sha256(data).hexdigest()}


def train_and_evaluate(
    table: pa.Table | bytes,
    features: list[str],
    dataset_id: str,
    *,
    params: TrainParams | None = None,
    band_targets: BandTargets | None = None,
    train_fraction: float = DEFAULT_TRAIN_FRACTION,
    bundle_id: str,
    version: int,
    scope: str,
    code_version: str,
) -> FactoryResult:
    """Train on the earlier ``train_fraction`` of rows, evaluate on the rest, pick the bands.

    ``table`` is the dataset (a pyarrow Table or its Parquet bytes) with the dataset builder's
    columns; ``features`` are its feature columns in the manifest's order (the model's input
    order); ``dataset_id`` is the manifest digest recorded as lineage.

    Raises:
        FactoryInputError: the table cannot be trained on (see :func:`split_by_time`).
    """
    params = params or TrainParams()
    band_targets = band_targets or BandTargets()
    split = split_by_time(load_table(table), features, train_fraction)
    trained = train_model(split.x_train, split.y_train, split.features, params)
    oof = out_of_fold_scores(split.x_train, split.y_train, split.features, params)
    negatives = oof[split.y_train == 0]  # honest scores: the bands hold on new traffic
    bands = pick_bands(negatives, band_targets)
    rates = band_rates(negatives, bands)
    test_scores = predict(trained.model_text, split.x_test)
    evaluation = evaluate(split.y_test, test_scores, split.incumbent_score,
                          split.incumbent_outcome, step_up_band=bands.step_up)

    import lightgbm

    metrics = evaluation.as_dict()
    metrics.update({"train.rows": float(len(split.y_train)),
                    "train.positives": float(int(split.y_train.sum())),
                    "test.from_ts_us": float(split.boundary_ts_us),
                    "test.to_ts_us": float(split.ts_test[-1])})
    metrics.update({f"train.{name}_band_rate": rate for name, rate in rates.items()})
    metrics = dict(sorted(metrics.items()))
    lineage_params = {  # flat, dotted names: the bundle contract keeps lineage values scalar
        **{f"train.{k}": v for k, v in params.as_dict().items()},
        "num_rounds": trained.num_rounds,
        "train_fraction": train_fraction,
        **{f"band_targets.{k}": v for k, v in band_targets.as_dict().items()},
        "lightgbm_version": lightgbm.__version__,
    }
    split_utc = epoch_micros_to_ts(split.boundary_ts_us)
    bundle_fields: dict[str, Any] = {
        "bundle_id": bundle_id,
        "version": version,
        "scope": scope,
        "kind": "lightgbm",
        "description": (
            f"LightGBM ({trained.num_rounds} rounds) trained by the model factory on dataset "
            f"{dataset_id}: {len(split.y_train)} rows before {split_utc}, evaluated on "
            f"{len(split.y_test)} later rows."
        ),
        "features": list(split.features),
        "model_digest": _digest(trained.model_text),
        "bands": bands.as_dict(),
        "lineage": {
            "manifest_digest": dataset_id,
            "code_version": code_version,
            "params": lineage_params,
            # Undefined metrics (NaN) are left out: lineage stays plain JSON.
            "metrics": {k: v for k, v in metrics.items() if math.isfinite(v)},
        },
    }
    return FactoryResult(
        model_text=trained.model_text,
        bundle_fields=bundle_fields,
        evaluation=evaluation,
        bands=bands,
        train_band_rates=rates,
        dataset_id=dataset_id,
        features=split.features,
        importance_gain=trained.importance_gain,
        num_rounds=trained.num_rounds,
        train_rows=len(split.y_train),
        test_rows=len(split.y_test),
        split_ts_us=split.boundary_ts_us,
        test_to_ts_us=int(split.ts_test[-1]),
        test_labels=split.y_test,
        candidate_scores=test_scores,
        incumbent_scores=split.incumbent_score,
        metrics=metrics,
    )

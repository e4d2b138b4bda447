"""The Model Factory: LightGBM trained on a dataset with a time split, evaluated against the
incumbent on the same later rows, with score bands from policy targets and an HTML report.

Input is the dataset builder's table (Parquet or a pyarrow Table: metadata columns, then one
float64 column per feature); output is the model's text (LightGBM's own format, never a pickle),
the plain fields the registry turns into a ``lightgbm`` bundle (with lineage: manifest digest,
code version, parameters, metrics), and the report. Same table and parameters, same bytes.
"""

from app.factory.bands import Bands, BandTargets, band_rates, pick_bands
from app.factory.factory import (
    DEFAULT_TRAIN_FRACTION,
    FactoryResult,
    train_and_evaluate,
    write_report,
)
from app.factory.metrics import Evaluation, OperatingPoint, ScoreMetrics, evaluate
from app.factory.train import FactoryInputError, TrainParams

__all__ = [
    "DEFAULT_TRAIN_FRACTION",
    "BandTargets",
    "Bands",
    "Evaluation",
    "FactoryInputError",
    "FactoryResult",
    "OperatingPoint",
    "ScoreMetrics",
    "TrainParams",
    "band_rates",
    "evaluate",
    "pick_bands",
    "train_and_evaluate",
    "write_report",
]

"""A synthetic dataset table in the dataset builder's shape, for the Model Factory tests.

Rows: ``n`` flows at increasing event times (stored shuffled, so the factory must sort). Fraud
(label 1, about 3 %) depends on two of the features only; the others are noise, one has missing
values. The incumbent's score is either a noisier view of the same risk (``"noisy"``) or pure
chance (``"random"``); 5 % of incumbent decisions are rules-only (no score). The incumbent's
outcome is not APPROVE for its top-scored 4 % of rows and for a few rules-only rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from app.factory.factory import FactoryResult, train_and_evaluate

FEATURES = ["card.count_1h", "card.amount_z", "device.age_days", "merchant.risk", "txn.<b>"]
T0_US = 1_741_000_000_000_000
DATASET_ID = "sha256:" + "ab" * 32


def make_table(n: int = 5_000, *, seed: int = 7, incumbent: str = "noisy",
               features: list[str] | None = None) -> pa.Table:
    features = features or FEATURES
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(features)))
    logit = -5.4 + 1.6 * x[:, 0] + 1.6 * x[:, 1]
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    x[rng.random(n) < 0.05, 2] = np.nan  # a feature with missing values
    ts = T0_US + np.cumsum(rng.integers(1, 5_000_000, size=n)).astype(np.int64)
    if incumbent == "random":
        score = rng.random(n)
    else:
        score = 1.0 / (1.0 + np.exp(-(logit + rng.normal(scale=2.5, size=n))))
    rules_only = rng.random(n) < 0.05
    score[rules_only] = np.nan
    cut = np.nanquantile(score, 0.96)
    flagged = (np.nan_to_num(score, nan=-1.0) >= cut) | (rules_only & (rng.random(n) < 0.1))
    outcome = np.where(flagged, "REVIEW", "APPROVE")
    order = rng.permutation(n)
    columns = {
        "run_id": pa.array(["run-1"] * n),
        "flow_id": pa.array([f"flow-{i:06d}" for i in range(n)]),
        "trigger_event_id": pa.array([f"evt-{i:06d}" for i in range(n)]),
        "ts_utc": pa.array([str(t) for t in ts]),
        "ts_us": pa.array(ts, type=pa.int64()),
        "label": pa.array(label, type=pa.int8()),
        "incumbent_score": pa.array(score, type=pa.float64()),  # NaN, not null
        "incumbent_outcome": pa.array(outcome.tolist()),
        "incumbent_bundle": pa.array(["scorecard@1"] * n),
    }
    for i, name in enumerate(features):
        columns[name] = pa.array(x[:, i], type=pa.float64())
    return pa.table(columns).take(pa.array(order))


def run(table: pa.Table, **overrides: object) -> FactoryResult:
    kwargs: dict[str, object] = {"bundle_id": "fraud-lgbm", "version": 1, "scope": "auth",
                                 "code_version": "test-code"}
    kwargs.update(overrides)
    return train_and_evaluate(table, FEATURES, DATASET_ID, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_table()


@pytest.fixture(scope="module")
def result(table: pa.Table) -> FactoryResult:
    return run(table)

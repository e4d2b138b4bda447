"""Tiny LightGBM models trained in the test on seeded synthetic data, and model bundles for them.

Training is deterministic (``deterministic=True``, one thread, fixed seeds), so the same call
gives the same model text, byte for byte.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import lightgbm
import numpy as np

from app.rails.bundle import ModelBundle
from app.rails.digests import digest_bytes

FEATURES = ("card.count_5m", "txn.amount_minor", "card.count_1h")
"""Real snapshot features (the feature registry provides them), in the model's column order."""

PARAMS: dict[str, Any] = {
    "objective": "binary", "deterministic": True, "num_threads": 1, "seed": 7,
    "num_leaves": 7, "min_data_in_leaf": 5, "learning_rate": 0.2, "verbose": -1,
}


def synthetic(rows: int = 600, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Features like card.count_5m, txn.amount_minor, card.count_1h (with ~5 % missing), and a
    label that depends on the first two."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.poisson(2.0, rows).astype(float),
                         rng.gamma(2.0, 5000.0, rows),
                         rng.poisson(6.0, rows).astype(float)])
    x[rng.random(x.shape) < 0.05] = np.nan
    signal = np.nan_to_num(x[:, 0]) / 3 + np.nan_to_num(x[:, 1]) / 20000
    y = (signal + rng.normal(0, 0.4, rows) > 1.4).astype(int)
    return x, y


@cache
def train(rows: int = 600, seed: int = 7, objective: str = "binary") -> bytes:
    """The text model of a small booster trained on :func:`synthetic` data."""
    x, y = synthetic(rows, seed)
    params = PARAMS | {"objective": objective}
    booster = lightgbm.train(params, lightgbm.Dataset(x, label=y), num_boost_round=15)
    return str(booster.model_to_string()).encode()


def model_bundle(text: bytes | None = None, **overrides: Any) -> ModelBundle:
    """A valid ``lightgbm`` bundle for ``text`` (default :func:`train`); override any field."""
    text = train() if text is None else text
    body: dict[str, Any] = {
        "bundle_id": "tiny-gbm", "version": 1, "scope": "auth", "kind": "lightgbm",
        "description": "a tiny test model", "features": list(FEATURES),
        "model_digest": digest_bytes(text).model_dump(),
        "bands": {"step_up": 0.3, "review": 0.6, "decline": 0.9},
        "lineage": {"manifest_digest": "e" * 64, "code_version": "test",
                    "params": {"num_leaves": 7, "objective": "binary", "deterministic": True,
                               "learning_rate": 0.2},
                    "metrics": {"roc_auc": 0.9}},
    } | overrides
    return ModelBundle.model_validate(body)

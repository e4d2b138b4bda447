"""Scoring a LightGBM model bundle: the model's probability, banded by the bundle.

The model is LightGBM's own text model format (never a pickle), stored by the Registry under
its sha256 (``registry/models/<hex>.txt``) and named by the bundle's ``model_digest``. A
:class:`LightGBMScorer` checks the text against that digest, loads it with
``lightgbm.Booster(model_str=...)`` and keeps the Booster in a small per-process cache keyed by
the digest, so a worker re-resolving the same bundle does not re-parse the model.

The input row is the bundle's ``features`` in their order (the model's columns): ``None`` and
NaN become NaN (LightGBM's missing value), a bool 1.0 or 0.0, a number itself as a float. The
score is the predicted probability of the positive class (binary objectives only); the outcome
is the highest band the probability reaches, and a non-APPROVE band reports
``MODEL_SCORE_<BAND>`` (e.g. ``MODEL_SCORE_REVIEW``). Prediction is single-threaded, so the same
model and values always give the same float.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from app.rails.bundle import ModelBundle, ProbabilityBands
from app.rails.decision import FeatureValue
from app.rails.digests import Digest, digest_matches
from app.scoring.base import BandOutcome, ModelUnavailableError, Scored

if TYPE_CHECKING:
    import lightgbm

__all__ = [
    "BOOSTER_CACHE_SIZE",
    "LightGBMScorer",
    "booster_cached",
    "feature_row",
    "probability_band",
]

BOOSTER_CACHE_SIZE = 8
"""How many parsed models a process keeps (an ACTIVE and a SHADOW per scope, with room)."""

_BOOSTERS: OrderedDict[str, lightgbm.Booster] = OrderedDict()
_LOCK = threading.Lock()
_BINARY_OBJECTIVES = ("binary", "cross_entropy", "xentropy")


def booster_cached(model_digest: Digest) -> bool:
    """Whether the model with this digest is parsed already (no need to read its text)."""
    with _LOCK:
        return model_digest.hex in _BOOSTERS


def _objective(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("objective="):
            return line.removeprefix("objective=").split(" ", 1)[0]
        if line.startswith("Tree="):
            break
    return None


def _load_booster(bundle: ModelBundle, model_text: bytes | None) -> lightgbm.Booster:
    digest = bundle.model_digest
    with _LOCK:
        cached = _BOOSTERS.get(digest.hex)
        if cached is not None:
            _BOOSTERS.move_to_end(digest.hex)
    if cached is None:
        if model_text is None:
            raise ModelUnavailableError(
                f"bundle {bundle.bundle_id}@{bundle.version}: model sha256:{digest.hex} is not "
                "loaded and no model text was given; read it with RegistryStore.get_model")
        if not digest_matches(digest, model_text):
            raise ModelUnavailableError(
                f"bundle {bundle.bundle_id}@{bundle.version}: the model text is not "
                f"sha256:{digest.hex}")
        try:
            text = model_text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelUnavailableError(f"model sha256:{digest.hex} is not UTF-8 text") from exc
        objective = _objective(text)
        if objective not in _BINARY_OBJECTIVES:
            raise ModelUnavailableError(
                f"model sha256:{digest.hex} has objective {objective!r}; a bundle bands a "
                f"probability, so it must be one of {list(_BINARY_OBJECTIVES)}")
        import lightgbm  # only processes that score a model pay for the import

        try:
            cached = lightgbm.Booster(model_str=text)
        except lightgbm.basic.LightGBMError as exc:
            raise ModelUnavailableError(
                f"model sha256:{digest.hex} is not a LightGBM text model: {exc}") from exc
        with _LOCK:
            _BOOSTERS[digest.hex] = cached
            while len(_BOOSTERS) > BOOSTER_CACHE_SIZE:
                _BOOSTERS.popitem(last=False)
    if cached.num_feature() != len(bundle.features):
        raise ModelUnavailableError(
            f"model sha256:{digest.hex} reads {cached.num_feature()} columns; bundle "
            f"{bundle.bundle_id}@{bundle.version} lists {len(bundle.features)} features")
    return cached


def _as_float(value: FeatureValue) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value)  # NaN stays NaN: LightGBM's missing value


def feature_row(features: tuple[str, ...], values: Mapping[str, FeatureValue]
                ) -> np.ndarray:
    """The model's input: one float64 row in ``features`` order (missing -> NaN)."""
    return np.array([[_as_float(values.get(name)) for name in features]], dtype=np.float64)


def probability_band(probability: float, bands: ProbabilityBands) -> BandOutcome:
    """The highest band with ``probability >= band``, else APPROVE."""
    if probability >= bands.decline:
        return "DECLINE"
    if probability >= bands.review:
        return "REVIEW"
    if probability >= bands.step_up:
        return "STEP_UP"
    return "APPROVE"


class LightGBMScorer:
    """The :class:`~app.scoring.base.Scorer` of a ``lightgbm`` bundle.

    Raises (from the constructor):
        ModelUnavailableError: no text and no cached model, a text that is not the bundle's
            ``model_digest``, not a binary LightGBM model, or one over a different column count.
    """

    __slots__ = ("_booster", "bundle")

    def __init__(self, bundle: ModelBundle, model_text: bytes | None = None) -> None:
        self.bundle = bundle
        self._booster = _load_booster(bundle, model_text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LightGBMScorer) and other.bundle == self.bundle

    def __hash__(self) -> int:
        return hash(self.bundle.model_digest.hex)

    def __repr__(self) -> str:
        return (f"LightGBMScorer({self.bundle.bundle_id}@{self.bundle.version}, "
                f"model sha256:{self.bundle.model_digest.hex[:12]})")

    def probability(self, values: Mapping[str, FeatureValue]) -> float:
        """The model's probability for one snapshot's values."""
        row = feature_row(self.bundle.features, values)
        return float(self._booster.predict(row, num_threads=1)[0])

    def score(self, values: Mapping[str, FeatureValue]) -> Scored:
        probability = self.probability(values)
        band = probability_band(probability, self.bundle.bands)
        codes = () if band == "APPROVE" else (f"MODEL_SCORE_{band}",)
        return Scored(score=probability, outcome_band=band, reason_codes=codes)

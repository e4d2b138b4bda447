"""The model bundle contract: what the Registry stores, activates and DF scores with.

A bundle is content-addressed: its identity on the wire is a :class:`~app.rails.decision.BundleRef`
whose ``digest`` is the sha256 of the bundle's canonical JSON (:func:`bundle_bytes`), so nobody can
change a rule under the same name and version. Two kinds, told apart by ``kind``
(:data:`Bundle`):

- ``scorecard`` (:class:`ScorecardBundle`): transparent rules; each adds its points when its
  condition (:class:`app.rails.condition.Condition`, the model guardrails share) holds, and the
  total falls into an outcome band;
- ``lightgbm`` (:class:`ModelBundle`): a trained LightGBM model. The bundle names the model by
  the digest of its text model format (``model_digest``; the Registry stores the text at
  ``registry/models/<hex>.txt``, never a pickle), lists its input features in the model's column
  order, and bands the predicted probability. ``lineage`` says where it came from (dataset
  manifest, code version, parameters, metrics) and holds no timestamp, so the same training
  gives the same bundle digest.

A feature is one of a snapshot (``card.count_5m``, ``graph.*``, ``txn.*``). A bundle lists every
feature it reads (``features``); the resolver checks that list against the feature registry, so a
bundle keeps working while the registry grows and is refused, naming the feature, when one it
reads is gone.

Models are closed and frozen; scalars are strict (a YAML ``"5"`` is not the number 5, and ``1``
is not ``true``), so a bundle means exactly what its file says.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from app.rails.canonical_json import canonical_dumps
from app.rails.condition import Condition, ConditionOp, ConditionValue
from app.rails.decision import BundleRef, FeatureName
from app.rails.digests import Digest, digest_bytes
from app.rails.errors import ContractError
from app.rails.reason_codes import ReasonCode
from app.rails.validation import field_problems

__all__ = [
    "Bundle",
    "BundleInvalidError",
    "BundleKind",
    "ModelBundle",
    "ModelLineage",
    "ProbabilityBands",
    "RuleOp",
    "RuleValue",
    "ScoreBands",
    "ScorecardBundle",
    "ScorecardRule",
    "bundle_bytes",
    "bundle_ref",
    "parse_bundle",
    "parse_bundle_yaml",
]

_Closed = ConfigDict(extra="forbid", frozen=True)

RuleOp = ConditionOp
"""Comparison of a feature value (left) with the rule's value (right)."""

RuleValue = ConditionValue
"""What a rule compares with: a number, a bool (only ``==``/``!=``) or an int list (only ``in``)."""

BundleKind = Literal["scorecard", "lightgbm"]
"""Every bundle kind; DF picks the scorer by it (``app.scoring.scorer_for``)."""

_Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
_Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
_RuleCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")]
_PLATFORM_CODES = frozenset(code.value for code in ReasonCode)


class BundleInvalidError(ContractError):
    """A bundle document is not valid YAML/JSON or breaks the contract; names each bad field."""

    reason_code = "BUNDLE_INVALID"

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"bundle {source} is invalid: {'; '.join(problems)}")


class ScorecardRule(Condition):
    """``if <feature> <op> <value> then +points``, reported as ``reason_code`` when it fires."""

    model_config = _Closed

    name: _Name = Field(description="snake_case, unique within the bundle.")
    points: StrictInt = Field(ge=-1000, le=1000, description="Added to the score when it fires.")
    reason_code: _RuleCode = Field(
        description="UPPER_SNAKE code DF records when the rule fires (not a platform code)."
    )

    @model_validator(mode="after")
    def _own_reason_code(self) -> ScorecardRule:
        if self.reason_code in _PLATFORM_CODES:
            raise ValueError(
                f"reason_code {self.reason_code!r} is a platform reason code; pick a rule's own"
            )
        return self


class ScoreBands(BaseModel):
    """Score thresholds: ``score >= band`` gives that outcome (the highest reached wins).

    Below ``step_up`` is APPROVE. Bands are non-decreasing; two equal bands skip the milder one.
    """

    model_config = _Closed

    step_up: StrictInt
    review: StrictInt
    decline: StrictInt

    @model_validator(mode="after")
    def _non_decreasing(self) -> ScoreBands:
        if not self.step_up <= self.review <= self.decline:
            raise ValueError("bands must be non-decreasing: step_up <= review <= decline")
        return self


class ScorecardBundle(BaseModel):
    """A transparent scorecard: the features it reads, rules, and outcome bands."""

    model_config = _Closed

    bundle_id: _Id
    version: StrictInt = Field(ge=1)
    scope: _Id = Field(description="Registry scope it may be ACTIVE in, e.g. 'auth'.")
    kind: Literal["scorecard"]
    description: str = Field(min_length=1, max_length=4000)
    features: tuple[FeatureName, ...] = Field(
        min_length=1,
        description="Every feature the rules read, sorted, without repeats; the bundle is "
                    "usable where the feature registry provides all of them.",
    )
    rules: tuple[ScorecardRule, ...] = Field(min_length=1)
    bands: ScoreBands

    @model_validator(mode="after")
    def _unique_names(self) -> ScorecardBundle:
        rules = [rule.name for rule in self.rules]
        if len(set(rules)) != len(rules):
            dupes = sorted({n for n in rules if rules.count(n) > 1})
            raise ValueError(f"rule names must be unique; repeated: {dupes}")
        if list(self.features) != sorted(set(self.features)):
            raise ValueError("features must be sorted and without repeats")
        unlisted = sorted(self.required_features() - set(self.features))
        if unlisted:
            raise ValueError(f"rules read features not listed in 'features': {unlisted}")
        return self

    def required_features(self) -> set[str]:
        """Every feature name some rule reads."""
        return {rule.feature for rule in self.rules}


class ProbabilityBands(BaseModel):
    """Probability thresholds: ``p >= band`` gives that outcome (the highest reached wins).

    Below ``step_up`` is APPROVE. Each in [0, 1] and non-decreasing; numbers only (``"0.5"`` is
    refused), an integer is read as its float (``1`` is ``1.0``, in the digest too).
    """

    model_config = _Closed

    step_up: StrictFloat = Field(ge=0.0, le=1.0)
    review: StrictFloat = Field(ge=0.0, le=1.0)
    decline: StrictFloat = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _non_decreasing(self) -> ProbabilityBands:
        if not self.step_up <= self.review <= self.decline:
            raise ValueError("bands must be non-decreasing: step_up <= review <= decline")
        return self


_ParamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")]
ParamValue = StrictStr | StrictBool | StrictInt | StrictFloat


class ModelLineage(BaseModel):
    """Where a trained model came from. No timestamps: the same training gives the same bundle."""

    model_config = _Closed

    manifest_digest: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        description="Hex sha256 of the DatasetManifest it was trained on (None: not from one).")
    code_version: str = Field(min_length=1, max_length=200,
                              description="The training code's version, e.g. a git commit.")
    params: dict[_ParamName, ParamValue] = Field(
        description="The pinned hyper-parameters it was trained with.")
    metrics: dict[_ParamName, StrictFloat] = Field(
        description="Evaluation metrics on the held-out rows, e.g. roc_auc, average_precision.")

    @field_validator("params", "metrics")
    @classmethod
    def _finite(cls, value: dict[str, object]) -> dict[str, object]:
        bad = sorted(k for k, v in value.items() if isinstance(v, float) and not math.isfinite(v))
        if bad:
            raise ValueError(f"values must be finite numbers: {bad}")
        return value


class ModelBundle(BaseModel):
    """A trained LightGBM model by digest: its input features in column order, and its bands."""

    model_config = _Closed

    bundle_id: _Id
    version: StrictInt = Field(ge=1)
    scope: _Id = Field(description="Registry scope it may be ACTIVE in, e.g. 'auth'.")
    kind: Literal["lightgbm"]
    description: str = Field(min_length=1, max_length=4000)
    features: tuple[FeatureName, ...] = Field(
        min_length=1,
        description="The model's input columns in its order (not sorted), without repeats; the "
                    "bundle is usable where the feature registry provides all of them.",
    )
    model_digest: Digest = Field(
        description="sha256 of the LightGBM text model's bytes (registry/models/<hex>.txt).")
    bands: ProbabilityBands
    lineage: ModelLineage

    @model_validator(mode="after")
    def _unique_features(self) -> ModelBundle:
        if len(set(self.features)) != len(self.features):
            dupes = sorted({f for f in self.features if self.features.count(f) > 1})
            raise ValueError(f"features must be without repeats; repeated: {dupes}")
        return self

    def required_features(self) -> set[str]:
        """Every feature name the model reads."""
        return set(self.features)


Bundle = Annotated[ScorecardBundle | ModelBundle, Field(discriminator="kind")]
"""Any bundle, told apart by ``kind``."""

_KINDS: dict[str, type[ScorecardBundle] | type[ModelBundle]] = {
    "scorecard": ScorecardBundle, "lightgbm": ModelBundle}


def bundle_bytes(bundle: ScorecardBundle | ModelBundle) -> bytes:
    """The bundle's canonical JSON: the bytes the Registry stores and the digest covers."""
    return canonical_dumps(bundle.model_dump(mode="json"))


def bundle_ref(bundle: ScorecardBundle | ModelBundle) -> BundleRef:
    """The by-digest reference to ``bundle`` (pure: the same bundle always gives the same ref)."""
    return BundleRef(
        bundle_id=bundle.bundle_id,
        version=bundle.version,
        scope=bundle.scope,
        digest=digest_bytes(bundle_bytes(bundle)),
    )


def parse_bundle(body: object, *, source: str) -> ScorecardBundle | ModelBundle:
    """Validate a decoded document (YAML or JSON) as a bundle of the kind it names.

    Raises:
        BundleInvalidError: listing each bad field as ``dotted.path: problem`` (an unknown or
            missing ``kind`` is one of them).
    """
    if not isinstance(body, dict):
        raise BundleInvalidError(source, [f"$: expected a mapping, got {type(body).__name__}"])
    kind = body.get("kind")
    model = _KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise BundleInvalidError(source, [
            f"kind: expected one of {sorted(_KINDS)}, got {body.get('kind')!r}"])
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BundleInvalidError(source, field_problems(exc)) from exc


def parse_bundle_yaml(text: str, *, source: str) -> ScorecardBundle | ModelBundle:
    """Parse and validate a bundle written as YAML (the form analysts edit).

    Raises:
        BundleInvalidError: a YAML syntax error, or the fields that break the contract.
    """
    try:
        body = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first_line = " ".join(str(exc).split())
        raise BundleInvalidError(source, [f"not valid YAML: {first_line}"]) from exc
    return parse_bundle(body, source=source)

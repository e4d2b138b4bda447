"""The model bundle contract: what the Registry stores, activates and DF scores with.

A bundle is content-addressed: its identity on the wire is a :class:`~app.rails.decision.BundleRef`
whose ``digest`` is the sha256 of the bundle's canonical JSON (:func:`bundle_bytes`), so nobody can
change a rule under the same name and version. The first (and so far only) kind is a transparent
*scorecard*: each rule adds its points when its condition holds, and the total falls into an
outcome band. A rule names one feature of a snapshot (``card.count_5m``, ``graph.*``, ``txn.*``).
A bundle lists every feature it reads (``features``; a rule reading an unlisted one makes the
bundle invalid); the resolver checks that list against the feature registry, so a bundle keeps
working while the registry grows and is refused, naming the feature, when one it reads is gone.

Models are closed and frozen; scalars are strict (a YAML ``"5"`` is not the number 5, and ``1``
is not ``true``), so a bundle means exactly what its file says.
"""

from __future__ import annotations

from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationError,
    model_validator,
)

from app.rails.canonical_json import canonical_dumps
from app.rails.decision import BundleRef, FeatureName
from app.rails.digests import digest_bytes
from app.rails.errors import ContractError
from app.rails.reason_codes import ReasonCode
from app.rails.validation import field_problems

__all__ = [
    "BundleInvalidError",
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

RuleOp = Literal[">", ">=", "<", "<=", "==", "!=", "in"]
"""Comparison of a feature value (left) with the rule's value (right)."""

RuleValue = StrictBool | StrictInt | StrictFloat | list[StrictInt]
"""What a rule compares with: a number, a bool (only ``==``/``!=``) or an int list (only ``in``)."""

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


class ScorecardRule(BaseModel):
    """``if <feature> <op> <value> then +points``, reported as ``reason_code`` when it fires."""

    model_config = _Closed

    name: _Name = Field(description="snake_case, unique within the bundle.")
    feature: FeatureName = Field(description="A snapshot feature name, e.g. 'card.count_5m'.")
    op: RuleOp
    value: RuleValue = Field(
        description="A number; a bool only with '=='/'!='; an int list only with 'in'."
    )
    points: StrictInt = Field(ge=-1000, le=1000, description="Added to the score when it fires.")
    reason_code: _RuleCode = Field(
        description="UPPER_SNAKE code DF records when the rule fires (not a platform code)."
    )

    @model_validator(mode="after")
    def _value_fits_op(self) -> ScorecardRule:
        if (self.op == "in") != isinstance(self.value, list):
            raise ValueError("value must be a list of integers exactly when op is 'in'")
        if isinstance(self.value, list) and (
            not self.value or len(set(self.value)) != len(self.value)
        ):
            raise ValueError("an 'in' list must be non-empty and without repeats")
        if isinstance(self.value, bool) and self.op not in ("==", "!="):
            raise ValueError(f"a bool value only compares with '==' or '!=', not {self.op!r}")
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


def bundle_bytes(bundle: ScorecardBundle) -> bytes:
    """The bundle's canonical JSON: the bytes the Registry stores and the digest covers."""
    return canonical_dumps(bundle.model_dump(mode="json"))


def bundle_ref(bundle: ScorecardBundle) -> BundleRef:
    """The by-digest reference to ``bundle`` (pure: the same bundle always gives the same ref)."""
    return BundleRef(
        bundle_id=bundle.bundle_id,
        version=bundle.version,
        scope=bundle.scope,
        digest=digest_bytes(bundle_bytes(bundle)),
    )


def parse_bundle(body: object, *, source: str) -> ScorecardBundle:
    """Validate a decoded document (YAML or JSON) as a bundle.

    Raises:
        BundleInvalidError: listing each bad field as ``dotted.path: problem``.
    """
    if not isinstance(body, dict):
        raise BundleInvalidError(source, [f"$: expected a mapping, got {type(body).__name__}"])
    try:
        return ScorecardBundle.model_validate(body)
    except ValidationError as exc:
        raise BundleInvalidError(source, field_problems(exc)) from exc


def parse_bundle_yaml(text: str, *, source: str) -> ScorecardBundle:
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

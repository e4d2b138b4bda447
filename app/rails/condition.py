"""One condition model for every rule that reads a feature: ``<feature> <op> <value>``.

A scorecard rule (:class:`app.rails.bundle.ScorecardRule`: ``then +points``) and a policy
guardrail (:class:`app.df.policy.Guardrail`: ``then at least <outcome>``) are both a
:class:`Condition` with their own consequence, so they validate, serialise and evaluate the same
way (DESIGN "Declare once"). The fields are flat, so a rule is still one YAML line.

Evaluation (:meth:`Condition.holds`, :func:`condition_holds`): a feature that is absent, ``None``
or NaN never satisfies a condition (missing data is not evidence; DL and the completeness rules
deal with it explicitly). Values compare only with values of the same kind: a bool feature with
a bool, a number with a number; a mismatch never holds, so ``1`` is never mistaken for ``true``.

Scalars are strict (a YAML ``"5"`` is not the number 5, and ``1`` is not ``true``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

from app.rails.decision import FeatureName, FeatureValue

__all__ = ["Condition", "ConditionOp", "ConditionValue", "condition_holds"]

ConditionOp = Literal[">", ">=", "<", "<=", "==", "!=", "in"]
"""Comparison of a feature value (left) with the condition's value (right)."""

ConditionValue = StrictBool | StrictInt | StrictFloat | list[StrictInt]
"""What a condition compares with: a number, a bool (only ``==``/``!=``) or an int list (only
``in``)."""

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


def condition_holds(
    op: str, value: bool | int | float | Sequence[int], actual: FeatureValue
) -> bool:
    """Whether ``actual <op> value`` holds; ``None``, NaN or a kind mismatch never holds.

    Args:
        op: one of ``> >= < <= == != in``.
        value: the right-hand side (an int list or tuple for ``in``).
        actual: the snapshot's value for the condition's feature (``None`` when unknown).

    Raises:
        ValueError: ``op`` is not a known operator (contracts validate it first).
    """
    if actual is None or actual != actual:  # NaN is no more evidence than None
        return False
    if op == "in":
        if isinstance(actual, bool) or not isinstance(actual, int):
            return False
        return isinstance(value, list | tuple) and actual in value
    compare = _COMPARE.get(op)
    if compare is None:
        raise ValueError(f"unknown operator {op!r}")
    if isinstance(value, list | tuple) or isinstance(actual, bool) != isinstance(value, bool):
        return False
    return bool(compare(actual, value))


class Condition(BaseModel):
    """``<feature> <op> <value>``: the test part of every feature rule (subclass to add what
    happens when it holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: FeatureName = Field(description="A snapshot feature name, e.g. 'card.count_5m'.")
    op: ConditionOp
    value: ConditionValue = Field(
        description="A number; a bool only with '=='/'!='; a non-empty int list without repeats "
                    "only with 'in'."
    )

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if (self.op == "in") != isinstance(self.value, list):
            raise ValueError("value must be a list of integers exactly when op is 'in'")
        if isinstance(self.value, list) and (
            not self.value or len(set(self.value)) != len(self.value)
        ):
            raise ValueError("an 'in' list must be non-empty and without repeats")
        if isinstance(self.value, bool) and self.op not in ("==", "!="):
            raise ValueError(f"a bool value only compares with '==' or '!=', not {self.op!r}")
        return self

    def holds(self, values: Mapping[str, FeatureValue]) -> bool:
        """Whether the condition holds over a snapshot's ``values`` (absent feature: False)."""
        return condition_holds(self.op, self.value, values.get(self.feature))

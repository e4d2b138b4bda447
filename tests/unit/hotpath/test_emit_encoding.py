"""The decision bytes stage 2 puts on rtdl: ``encode_decision`` is byte-identical to the
reference ``canonical_dumps(record.model_dump(mode="json"))`` on every path, and the parts the
engine constructs without re-validating (pins, trigger ref) equal validated ones."""

from __future__ import annotations

from enum import IntEnum

import pytest

from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionRecord, TriggerRef, encode_decision
from app.rails.errors import ContractError
from app.rails.pins import ContextPins
from app.rails.posture import Posture
from tests.unit.hotpath.test_engine import context, engine, raw, step


def _decisions(posture: Posture) -> list[DecisionRecord]:
    hot = engine()
    out: list[DecisionRecord] = []
    for i in range(12):
        result = step(hot, raw(i % 3, "auth_request", ts_index=2 * i), 2 * i, context(posture))
        if result.decision is not None:
            out.append(result.decision)
        step(hot, raw(i % 3, "clearing", ts_index=2 * i + 1), 2 * i + 1, context(posture))
    assert out
    return out


def _reference(record: DecisionRecord) -> bytes:
    return canonical_dumps(record.model_dump(mode="json"))


@pytest.mark.parametrize("posture", list(Posture))
def test_same_bytes_as_the_reference_encoding(posture: Posture) -> None:
    for record in _decisions(posture):
        assert encode_decision(record) == _reference(record)
        assert ContextPins.model_validate(record.pins.model_dump()) == record.pins
        assert TriggerRef.model_validate(record.trigger.model_dump()) == record.trigger


class _Level(IntEnum):
    HIGH = 3


def _with_values(values: dict[str, object]) -> DecisionRecord:
    record = _decisions(Posture.NORMAL)[0]
    snapshot = record.snapshot.model_copy(update={"values": values})
    return record.model_copy(update={"snapshot": snapshot})


def test_values_of_other_types_take_the_full_dump() -> None:
    record = _with_values({"card.level": _Level.HIGH, "card.n": 1, "card.x": 0.5})
    assert encode_decision(record) == _reference(record)


def test_non_finite_values_are_refused_as_by_the_reference() -> None:
    record = _with_values({"card.n": 1, "card.x": float("nan")})
    with pytest.raises(ContractError) as fast:
        encode_decision(record)
    with pytest.raises(ContractError) as ref:
        _reference(record)
    assert str(fast.value) == str(ref.value)

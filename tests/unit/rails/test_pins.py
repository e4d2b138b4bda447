"""ContextPins: the four run pins, closed, frozen and strict; seed kept apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from app.rails.pins import SEED_MAX, ContextPins, Seed


def test_pins_hold_exactly_the_four_pins(make_pins: Callable[..., ContextPins]) -> None:
    assert set(make_pins().model_dump()) == {
        "manifest_fingerprint",
        "parameter_hash",
        "scenario_id",
        "run_id",
    }


def test_seed_is_not_a_pin(make_pins: Callable[..., ContextPins]) -> None:
    with pytest.raises(ValidationError):
        make_pins(seed=1)


def test_pins_are_frozen(make_pins: Callable[..., ContextPins]) -> None:
    pins = make_pins()
    with pytest.raises(ValidationError):
        pins.run_id = "f" * 32  # type: ignore[misc]  # assignment is the thing under test


def test_equal_pins_compare_and_hash_equal(make_pins: Callable[..., ContextPins]) -> None:
    assert make_pins() == make_pins()
    assert hash(make_pins()) == hash(make_pins())


@pytest.mark.parametrize(
    "overrides",
    [
        {"run_id": "f" * 64},  # an engine-style hex64 where SR's hex32 run_id belongs
        {"run_id": "F" * 32},
        {"manifest_fingerprint": "a" * 32},
        {"parameter_hash": "x" * 64},
        {"scenario_id": ""},
        {"scenario_id": "../escape"},
        {"scenario_id": "a/b"},
        {"scenario_id": " baseline"},
        {"scenario_id": ".hidden"},
        {"scenario_id": "s" * 129},
        {"scenario_id": 7},
    ],
)
def test_pins_refuse_malformed_values(
    make_pins: Callable[..., ContextPins], overrides: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        make_pins(**overrides)


@pytest.mark.parametrize("value", [0, 42, SEED_MAX])
def test_seed_accepts_non_negative_int64(value: int) -> None:
    assert TypeAdapter(Seed).validate_python(value) == value


@pytest.mark.parametrize("value", [-1, SEED_MAX + 1, True, "42", 4.0])
def test_seed_refuses_negative_oversized_or_non_int(value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Seed).validate_python(value)

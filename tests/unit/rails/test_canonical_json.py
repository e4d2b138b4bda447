"""Canonical JSON refuses every value whose bytes would be ambiguous, as a ContractError."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.rails.canonical_json import MAX_DEPTH, canonical_dumps, canonical_loads, pretty_dumps
from app.rails.errors import ContractError


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def test_canonical_dumps_sorts_keys_and_is_compact() -> None:
    assert canonical_dumps({"b": 1, "a": [1, {"d": None, "c": "é"}]}) == (
        '{"a":[1,{"c":"é","d":null}],"b":1}'.encode()
    )


def test_tuples_and_lists_have_the_same_bytes() -> None:
    assert canonical_dumps(("a", 1)) == canonical_dumps(["a", 1])


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        {1: "non-string key"},
        datetime(2024, 1, 1, tzinfo=UTC),
        b"bytes",
        {"set": {1, 2}},
        2**64,  # beyond orjson's 64-bit integers
        -(2**63) - 1,
        "\ud800",  # lone surrogate: not encodable as UTF-8
    ],
)
def test_canonical_dumps_refuses_ambiguous_values_with_contract_error(value: Any) -> None:
    with pytest.raises(ContractError):
        canonical_dumps(value)


def test_nesting_up_to_max_depth_is_accepted() -> None:
    assert canonical_loads(canonical_dumps(_nested(MAX_DEPTH))) == _nested(MAX_DEPTH)


def test_nesting_beyond_max_depth_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="nesting"):
        canonical_dumps(_nested(MAX_DEPTH + 1))


def test_pretty_dumps_is_sorted_indented_and_ends_with_newline() -> None:
    assert pretty_dumps({"b": 1, "a": [1]}) == b'{\n  "a": [\n    1\n  ],\n  "b": 1\n}\n'


def test_pretty_dumps_refuses_what_canonical_dumps_refuses() -> None:
    with pytest.raises(ContractError):
        pretty_dumps({"x": float("nan")})

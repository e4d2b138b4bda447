"""Canonical JSON invariants, each a named predicate checked over generated JSON values.

- key order never changes the bytes (nor the digest);
- bytes round-trip: dumps(loads(dumps(v))) == dumps(v), and loads(dumps(v)) == v;
- the pretty form carries the same value as the canonical form.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.rails.canonical_json import canonical_dumps, canonical_loads, pretty_dumps
from app.rails.digests import digest_json

SETTINGS = settings(max_examples=300, deadline=1000)

# Text without lone surrogates: those have no UTF-8 form and are refused (see unit tests).
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
json_values = st.recursive(
    _leaf,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text, children, max_size=5),
    max_leaves=40,
)


def _reorder(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys inserted in a shuffled order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _reorder(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_reorder(v, rng) for v in value]
    return value


def key_order_does_not_change_bytes(value: Any, seed: int) -> bool:
    reordered = _reorder(value, random.Random(seed))
    return canonical_dumps(reordered) == canonical_dumps(value) and digest_json(
        reordered
    ) == digest_json(value)


def bytes_round_trip(value: Any) -> bool:
    data = canonical_dumps(value)
    return canonical_dumps(canonical_loads(data)) == data


def value_round_trips(value: Any) -> bool:
    return bool(canonical_loads(canonical_dumps(value)) == value)


def pretty_form_carries_the_same_value(value: Any) -> bool:
    return canonical_dumps(canonical_loads(pretty_dumps(value))) == canonical_dumps(value)


@SETTINGS
@given(value=json_values, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_key_order_does_not_change_bytes(value: Any, seed: int) -> None:
    assert key_order_does_not_change_bytes(value, seed)


@SETTINGS
@given(value=json_values)
def test_bytes_round_trip(value: Any) -> None:
    assert bytes_round_trip(value)


@SETTINGS
@given(value=json_values)
def test_value_round_trips(value: Any) -> None:
    assert value_round_trips(value)


@SETTINGS
@given(value=json_values)
def test_pretty_form_carries_the_same_value(value: Any) -> None:
    assert pretty_form_carries_the_same_value(value)

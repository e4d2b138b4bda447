"""Deterministic id invariants, each a named predicate, for every named builder.

- stable: the same inputs (even rebuilt, dict keys reordered) give the same id;
- sensitive: changing ANY one input changes the id;
- well-formed: hex64, or hex32 for ``run_id``;
- tagged: two builders never share an id for the same parts.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.rails.ids import (
    action_idempotency_key,
    decision_id,
    engine_event_id,
    make_id,
    ready_message_id,
    receipt_id,
    run_id,
)

SETTINGS = settings(max_examples=150, deadline=1000)

hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
hex32 = st.text("0123456789abcdef", min_size=32, max_size=32)
name = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=16)
pk_values = st.dictionaries(
    st.text(max_size=8, alphabet="abcdefghij_"),
    st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    min_size=1,
    max_size=4,
)

# builder -> one strategy per positional argument, in signature order.
BUILDERS: dict[str, tuple[Callable[..., str], tuple[st.SearchStrategy[Any], ...]]] = {
    "engine_event_id": (
        engine_event_id,
        (name, pk_values, hex64, hex64, st.integers(0, 2**63 - 1), name),
    ),
    "run_id": (run_id, (name,)),
    "decision_id": (decision_id, (hex32, hex64)),
    "action_idempotency_key": (action_idempotency_key, (hex32, hex64, name)),
    "ready_message_id": (ready_message_id, (hex32, hex64)),
    "receipt_id": (
        receipt_id,
        (
            st.none() | hex32,
            st.none() | st.sampled_from(["auth_request", "label.chargeback", "refund"]),
            st.none() | hex64,
            hex64,
            st.sampled_from(["ADMIT", "DUPLICATE", "QUARANTINE"]),
        ),
    ),
}
_ID_FORM = {"run_id": re.compile(r"[0-9a-f]{32}")}
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _reordered(value: Any) -> Any:
    return dict(reversed(value.items())) if isinstance(value, dict) else copy.copy(value)


def is_stable(build: Callable[..., str], args: list[Any]) -> bool:
    return build(*args) == build(*[_reordered(a) for a in args])


def changes_when_input_changes(
    build: Callable[..., str], args: list[Any], index: int, replacement: Any
) -> bool:
    changed = [*args[:index], replacement, *args[index + 1 :]]
    return build(*changed) != build(*args)


def is_well_formed(builder_name: str, value: str) -> bool:
    return _ID_FORM.get(builder_name, _HEX64).fullmatch(value) is not None


def _draw_args(data: st.DataObject, builder_name: str) -> list[Any]:
    _, strategies = BUILDERS[builder_name]
    return [data.draw(s, label=f"arg{i}") for i, s in enumerate(strategies)]


@SETTINGS
@given(builder_name=st.sampled_from(sorted(BUILDERS)), data=st.data())
def test_every_builder_is_stable_and_well_formed(builder_name: str, data: st.DataObject) -> None:
    build, _ = BUILDERS[builder_name]
    args = _draw_args(data, builder_name)
    assert is_stable(build, args)
    assert is_well_formed(builder_name, build(*args))


@SETTINGS
@given(builder_name=st.sampled_from(sorted(BUILDERS)), data=st.data())
def test_every_builder_changes_when_any_one_input_changes(
    builder_name: str, data: st.DataObject
) -> None:
    build, strategies = BUILDERS[builder_name]
    args = _draw_args(data, builder_name)
    for index, strategy in enumerate(strategies):
        # Python equality (1 == True, {"a": 1} == {"a": 1}) is the "same input" test here.
        replacement = data.draw(strategy.filter(lambda v, old=args[index]: v != old))
        assert changes_when_input_changes(build, args, index, replacement), index


def tags_separate_kinds(parts: list[Any]) -> bool:
    tags = ["engine_event", "run", "decision", "action", "ready", "receipt"]
    return len({make_id(tag, *parts) for tag in tags}) == len(tags)


@SETTINGS
@given(parts=st.lists(hex64 | hex32 | name, min_size=1, max_size=5))
def test_tags_separate_kinds(parts: list[Any]) -> None:
    assert tags_separate_kinds(parts)

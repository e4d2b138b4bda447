"""Deterministic ids: tagged canonical tuples, pinned tags, refusal of non-canonical inputs."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from app.rails.errors import ContractError
from app.rails.ids import (
    Hex32,
    Hex64,
    action_idempotency_key,
    decision_id,
    engine_event_id,
    make_id,
    ready_message_id,
    receipt_id,
    run_id,
    short_id,
)

RUN = "0" * 31 + "1"
FP, PH = "a" * 64, "b" * 64


def test_make_id_is_sha256_of_the_tagged_canonical_tuple() -> None:
    expected = hashlib.sha256(b'["decision","' + RUN.encode() + b'","' + b"a" * 64 + b'"]')
    assert make_id("decision", RUN, "a" * 64) == expected.hexdigest()


def test_short_id_is_the_first_32_hex_of_make_id() -> None:
    assert short_id("run", "k") == make_id("run", "k")[:32]


def test_the_tag_separates_ids_with_equal_inputs() -> None:
    assert make_id("decision", RUN, "a" * 64) != make_id("action", RUN, "a" * 64)


@pytest.mark.parametrize("tag", ["", None, 3])
def test_make_id_refuses_an_empty_or_non_string_tag(tag: Any) -> None:
    with pytest.raises(ContractError):
        make_id(tag, "x")


def test_make_id_refuses_parts_without_canonical_form() -> None:
    with pytest.raises(ContractError):
        make_id("x", float("nan"))


# Pinned values: a change here means every stored id of that kind changed (a renamed tag, a
# reordered tuple). That is a breaking change of the wire, never a refactor.
GOLDEN = [
    (
        lambda: engine_event_id("auth_requests", {"flow_id": 7, "seq": 1}, FP, PH, 42, "baseline"),
        "ae9a5072e4a74f26cda941e9990fc480cc915923ab3d0609f1d3dfff61133e68",
    ),
    (lambda: run_id("eq-key-1"), "5df7dff32f8c85055c81a3e36d8b362c"),
    (
        lambda: decision_id(RUN, "c" * 64),
        "bc0a3ccdf72a14e660ae4013e0afe645959281a5a68cfa426d4a1c7471acab7f",
    ),
    (
        lambda: action_idempotency_key(RUN, "d" * 64, "block_card"),
        "42478bf6525fbf934b656e69dd3887e7a60ba69734ecb67efd6c914888f486ef",
    ),
    (
        lambda: ready_message_id(RUN, "e" * 64),
        "3a109452e4a34ee4bb47625c004a37133e5083cbc5ce8e98164da6cf0158976e",
    ),
    (
        lambda: receipt_id(RUN, "auth_request", "c" * 64, "f" * 64, "ADMIT"),
        "86d75cbaf3e49f8ad6f192adada0bfeedd2c3c0ed894c59506a8246cff7d94bd",
    ),
    (
        lambda: receipt_id(None, None, None, "f" * 64, "QUARANTINE"),
        "1b31f06aeaba103f43780fad6dcb6542ab2ba18ba78018a4bcf2309f307f4f57",
    ),
]


@pytest.mark.parametrize(("build", "expected"), GOLDEN)
def test_named_builders_produce_pinned_ids(build: Any, expected: str) -> None:
    assert build() == expected


def test_engine_event_id_does_not_take_a_run_id() -> None:
    assert "run_id" not in inspect.signature(engine_event_id).parameters


def test_engine_event_id_does_not_depend_on_primary_key_order() -> None:
    a = engine_event_id("out", {"flow_id": 7, "seq": 1}, FP, PH, 42, "s")
    b = engine_event_id("out", {"seq": 1, "flow_id": 7}, FP, PH, 42, "s")
    assert a == b


def test_run_id_is_hex32() -> None:
    TypeAdapter(Hex32).validate_python(run_id("any equivalence key"))


def test_receipt_id_differs_between_admit_and_duplicate_of_the_same_event() -> None:
    args = (RUN, "auth_request", "c" * 64, "f" * 64)
    assert receipt_id(*args, "ADMIT") != receipt_id(*args, "DUPLICATE")


@pytest.mark.parametrize(
    "build",
    [
        lambda: engine_event_id("out", {}, FP, PH, 1, "s"),
        lambda: engine_event_id("out", {"k": 1}, FP.upper(), PH, 1, "s"),
        lambda: engine_event_id("out", {"k": 1}, FP, PH[:-1], 1, "s"),
        lambda: engine_event_id("out", {"k": 1}, FP, PH, -1, "s"),
        lambda: engine_event_id("out", {"k": 1}, FP, PH, True, "s"),
        lambda: engine_event_id("out", {"k": 1}, FP, PH, "1", "s"),
        lambda: engine_event_id("", {"k": 1}, FP, PH, 1, "s"),
        lambda: engine_event_id("out", {"k": 1}, FP, PH, 1, ""),
        lambda: run_id(""),
        lambda: decision_id("f" * 64, "c" * 64),  # a hex64 where run_id (hex32) belongs
        lambda: decision_id(RUN, "C" * 64),
        lambda: action_idempotency_key(RUN, "d" * 64, ""),
        lambda: ready_message_id(RUN, "e" * 63),
        lambda: receipt_id(RUN, "auth_request", "c" * 64, "not-hex", "ADMIT"),
        lambda: receipt_id(RUN, "", "c" * 64, "f" * 64, "ADMIT"),
        lambda: receipt_id(RUN, "auth_request", "c" * 64, "f" * 64, ""),
    ],
)
def test_builders_refuse_non_canonical_inputs(build: Any) -> None:
    with pytest.raises(ContractError):
        build()


@pytest.mark.parametrize(
    ("hex_type", "value"),
    [(Hex64, "A" * 64), (Hex64, "a" * 63), (Hex32, "a" * 64), (Hex32, "g" * 32), (Hex64, 1)],
)
def test_hex_types_refuse_wrong_case_length_or_type(hex_type: Any, value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(hex_type).validate_python(value)

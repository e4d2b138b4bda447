"""Digests: one shape, over raw bytes or canonical JSON."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from pydantic import ValidationError

from app.rails.canonical_json import canonical_dumps
from app.rails.digests import Digest, digest_bytes, digest_json, digest_matches
from app.rails.errors import ContractError

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_digest_bytes_of_empty_input_is_the_known_sha256() -> None:
    assert digest_bytes(b"") == Digest(algo="sha256", hex=EMPTY_SHA256)


def test_digest_bytes_accepts_bytearray_and_memoryview() -> None:
    assert digest_bytes(bytearray(b"x")) == digest_bytes(memoryview(b"x")) == digest_bytes(b"x")


def test_digest_json_does_not_depend_on_key_order() -> None:
    assert digest_json({"a": 1, "b": [1, 2]}) == digest_json({"b": [1, 2], "a": 1})


def test_digest_json_hashes_the_canonical_bytes() -> None:
    value = {"z": "é", "a": None}
    assert digest_json(value).hex == hashlib.sha256(canonical_dumps(value)).hexdigest()


def test_digest_json_refuses_values_without_canonical_form() -> None:
    with pytest.raises(ContractError):
        digest_json({"amount": float("nan")})


def test_digest_dumps_to_the_wire_shape() -> None:
    assert digest_bytes(b"").model_dump() == {"algo": "sha256", "hex": EMPTY_SHA256}


@pytest.mark.parametrize(
    "fields",
    [
        {"algo": "md5", "hex": EMPTY_SHA256},
        {"algo": "sha256", "hex": EMPTY_SHA256.upper()},
        {"algo": "sha256", "hex": EMPTY_SHA256[:-1]},
        {"algo": "sha256", "hex": EMPTY_SHA256 + "0"},
        {"algo": "sha256", "hex": EMPTY_SHA256, "size": 0},
        {"algo": "sha256"},
    ],
)
def test_digest_refuses_anything_but_sha256_lowercase_hex64(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Digest(**fields)


def test_digest_is_frozen() -> None:
    digest = digest_bytes(b"")
    with pytest.raises(ValidationError):
        digest.hex = "0" * 64  # type: ignore[misc]  # assignment is the thing under test


def test_digest_matches_only_the_same_bytes() -> None:
    digest = digest_bytes(b"payload")
    assert digest_matches(digest, b"payload")
    assert not digest_matches(digest, b"payload ")

"""Policy revision stamps: the digest follows the content, not the label."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.rails.digests import digest_json
from app.rails.errors import ContractError
from app.rails.policy_rev import PolicyRev, policy_rev_of


def test_policy_rev_digest_is_the_canonical_json_digest_of_the_policy() -> None:
    policy = {"ingest": {"max_bytes": 1024}, "name": "ig"}
    assert policy_rev_of("ig", "r1", policy).digest == digest_json(policy)


def test_policy_rev_does_not_depend_on_key_order() -> None:
    assert policy_rev_of("ig", "r1", {"a": 1, "b": 2}) == policy_rev_of(
        "ig", "r1", {"b": 2, "a": 1}
    )


def test_same_label_with_different_content_gets_a_different_digest() -> None:
    assert policy_rev_of("ig", "r1", {"a": 1}).digest != policy_rev_of("ig", "r1", {"a": 2}).digest


@pytest.mark.parametrize(
    ("name", "revision", "policy"),
    [
        ("IG", "r1", {}),
        ("", "r1", {}),
        ("ig", "", {}),
        ("ig", "r 1", {}),
        ("ig", "r1", ["not", "a", "dict"]),
        ("ig", "r1", {"x": float("nan")}),
    ],
)
def test_policy_rev_of_refuses_bad_inputs_with_contract_error(
    name: str, revision: str, policy: Any
) -> None:
    with pytest.raises(ContractError):
        policy_rev_of(name, revision, policy)


def test_policy_rev_is_closed_and_frozen() -> None:
    rev = policy_rev_of("df.guardrails", "2025-01-15.1", {})
    with pytest.raises(ValidationError):
        PolicyRev(**rev.model_dump(), extra="x")
    with pytest.raises(ValidationError):
        rev.revision = "r2"  # type: ignore[misc]  # assignment is the thing under test

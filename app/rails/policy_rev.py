"""Policy revision stamps: which policy, at which revision, with which exact content.

This module owns the provenance of policy. Receipts, decisions and outcomes carry a
:class:`PolicyRev` so an auditor can tell which rules applied. The digest is computed over the
policy's canonical JSON, so a revision label that was reused for different content is caught by
comparing digests, not by trusting the label.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Strict, StringConstraints, ValidationError

from app.rails.digests import Digest, digest_json
from app.rails.errors import ContractError

__all__ = ["PolicyName", "PolicyRev", "PolicyRevision", "policy_rev_of"]

PolicyName = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=64),
]
"""Lowercase dotted name of a policy, e.g. ``ig`` or ``df.guardrails``."""

PolicyRevision = Annotated[
    str, Strict(), StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
]
"""The revision label a person gives a policy, e.g. ``r7`` or ``2025-01-15.1``."""


class PolicyRev(BaseModel):
    """A policy's name, its revision label, and the digest of its canonical content."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: PolicyName
    revision: PolicyRevision
    digest: Digest


def policy_rev_of(name: str, revision: str, policy: dict[str, Any]) -> PolicyRev:
    """Stamp for ``policy`` (a JSON-able mapping, e.g. a profile's validated ``policy`` dump).

    Raises:
        ContractError: ``name`` or ``revision`` is not of the documented form, or ``policy`` is
            not a dict with a canonical JSON form.
    """
    if not isinstance(policy, dict):
        raise ContractError(f"policy_rev: policy must be a dict, got {type(policy).__name__}")
    try:
        return PolicyRev(name=name, revision=revision, digest=digest_json(policy))
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors(include_input=False))
        raise ContractError(f"policy_rev: invalid {fields} for policy {name!r:.64}") from exc

"""A run request, its equivalence key and run_id (DESIGN.md section 4).

The equivalence key is what makes two requests "the same run": the world's identity (from the
locator), the scenario and a run label. ``run_id`` derives from it, so a repeated request finds
its run by evidence. Everything else in the request (streamed outputs, policy) is evidence too:
same key with a different ``request_digest`` is a conflict, never a second run.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.oracle.locator import WorldLocator
from app.rails.canonical_json import canonical_dumps
from app.rails.digests import digest_json
from app.rails.errors import ContractError
from app.rails.ids import run_id as derive_run_id
from app.rails.policy_rev import PolicyRev
from app.rails.validation import field_problems

__all__ = ["RunRequest", "equivalence_key", "parse_run_request", "request_digest", "run_id_for"]


class RunRequest(BaseModel):
    """What a user asks SR for (``fp sr run``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    world_locator: str = Field(min_length=1)
    scenario_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    run_label: str = Field(
        default="default", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Distinguishes deliberate re-runs of the same world and scenario.",
    )
    streamed_outputs: tuple[str, ...] | None = Field(
        default=None,
        description="Outputs WSP streams; None = every business_traffic and label_feed output.",
    )


def parse_run_request(**fields: Any) -> RunRequest:
    """A run request from user input (CLI flags).

    Raises:
        ContractError: naming every bad field, instead of a validation traceback.
    """
    try:
        return RunRequest(**fields)
    except ValidationError as exc:
        raise ContractError("invalid run request: " + "; ".join(field_problems(exc))) from exc


def equivalence_key(request: RunRequest, locator: WorldLocator) -> str:
    """Canonical JSON text of the run's identity tuple."""
    return canonical_dumps([
        "sr.run", locator.manifest_fingerprint, locator.parameter_hash, locator.seed,
        request.scenario_id, request.run_label,
    ]).decode()


def request_digest(request: RunRequest, policy_rev: PolicyRev) -> str:
    """Digest of all the request's evidence: the request itself and the policy it runs under."""
    body = {"request": request.model_dump(mode="json"),
            "policy_rev": policy_rev.model_dump(mode="json")}
    return digest_json(body).hex


def run_id_for(request: RunRequest, locator: WorldLocator) -> str:
    return derive_run_id(equivalence_key(request, locator))

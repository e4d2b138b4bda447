"""Control facts on ``fp.bus.control.v1``: READY, published by SR only.

``message_id`` is a pure function of the run and the digest of its ``run_facts_view``
(``ids.ready_message_id``): a re-published READY is byte-identical, so consumers dedupe on it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.rails.digests import Digest
from app.rails.ids import Hex64
from app.rails.pins import ContextPins, Seed
from app.rails.policy_rev import PolicyRev

__all__ = ["ObjectLocator", "RunReady"]


class ObjectLocator(BaseModel):
    """A platform object store key plus the digest its reader must verify."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    object_key: str
    digest: Digest


class RunReady(BaseModel):
    """READY: the run's facts are written and every required gate passed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["READY"] = "READY"
    message_id: Hex64
    run_id: str
    pins: ContextPins
    seed: Seed
    run_facts: ObjectLocator
    policy_rev: PolicyRev

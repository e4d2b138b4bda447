"""``run_facts_view``: SR's statement of what a READY run may read, and how (by reference).

Downstream components (WSP, IG, evaluation) follow this view and never scan the Oracle Store:
every output is listed with its role, framing (event type, schema version, time column), file
locators and digests, and the gate receipt that let SR put it here (no PASS, no read).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.rails.digests import Digest
from app.rails.ids import Hex64
from app.rails.pins import ContextPins, Seed
from app.rails.policy_rev import PolicyRev

__all__ = ["FactColumn", "FactFile", "FactGate", "FactOutput", "RunFactsView"]

_Closed = ConfigDict(extra="forbid", frozen=True)


class FactFile(BaseModel):
    """One verified file of an output, relative to the pack folder."""

    model_config = _Closed

    path: str
    digest: Digest
    size_bytes: int = Field(ge=0)


class FactGate(BaseModel):
    """The PASS SR recorded for a gate (failed gates never reach a view)."""

    model_config = _Closed

    gate_id: str
    bundle_digest: Digest
    files_verified: int = Field(ge=0)
    bytes_verified: int = Field(ge=0)


class FactColumn(BaseModel):
    """One column of an output as its interface pack declares it (name, engine type, nullable).

    The declared schema of a streamed output is what IG's generated payload contract for an
    imported world is built from (``app.rails.payloads.declared``).
    """

    model_config = _Closed

    name: str
    type: str
    nullable: bool


class FactOutput(BaseModel):
    """One output the run may read: role decides who may (truth: evaluation only)."""

    model_config = _Closed

    output_id: str
    role: Literal["business_traffic", "label_feed", "truth", "reference"]
    streamed: bool = Field(description="True for the outputs WSP streams through IG.")
    event_type: str | None = None
    schema_version: str | None = None
    time_column: str | None = None
    primary_key: tuple[str, ...]
    row_count: int = Field(ge=0)
    gate_id: str
    files: tuple[FactFile, ...]
    columns: tuple[FactColumn, ...] = Field(
        default=(), description="The output's declared schema, from the interface pack.")


class RunFactsView(BaseModel):
    """Everything a READY run is, pinned by content."""

    model_config = _Closed

    run_id: str
    pins: ContextPins
    seed: Seed
    world_locator: str
    pack_format: str
    manifest_digest: Digest
    interface_pack_digest: Digest
    engine: dict[str, str]
    outputs: tuple[FactOutput, ...]
    gates: tuple[FactGate, ...]
    traffic_delivery: Literal["stream_via_ig"] = Field(
        default="stream_via_ig",
        description="How business traffic reaches the platform: WSP streams it through IG.",
    )
    request_digest: Hex64
    policy_rev: PolicyRev

"""The platform's reading of an engine's interface pack (docs/world_pack_format.md).

The interface pack is all the platform knows of an engine: its output catalogue (id, role,
primary key, columns, time column, path template, gate) and its gate map. SR and WSP read only
this and the pack; they never import engine code.
"""

from __future__ import annotations

from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.rails.errors import ContractError

__all__ = ["STREAMED_ROLES", "ColumnSpec", "GateSpec", "InterfacePack", "OutputSpec", "Role",
           "parse_interface_pack"]

Role = Literal["business_traffic", "label_feed", "truth", "reference"]
STREAMED_ROLES: frozenset[str] = frozenset({"business_traffic", "label_feed"})

_Open = ConfigDict(extra="ignore", frozen=True)  # engines may add documentation fields


class ColumnSpec(BaseModel):
    model_config = _Open

    name: str
    type: str
    nullable: bool = True


class OutputSpec(BaseModel):
    """One engine output as catalogued."""

    model_config = _Open

    output_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    role: Role
    event_type: str | None = None
    schema_version: str | None = None
    primary_key: tuple[str, ...] = Field(min_length=1)
    time_column: str | None = None
    path_template: str
    gate: str
    columns: tuple[ColumnSpec, ...] = ()

    @model_validator(mode="after")
    def _streamed_outputs_are_framable(self) -> OutputSpec:
        if self.role in STREAMED_ROLES and not (
            self.event_type and self.schema_version and self.time_column
        ):
            raise ValueError(
                f"streamed output {self.output_id!r} needs event_type, schema_version and "
                "time_column"
            )
        return self


class GateSpec(BaseModel):
    model_config = _Open

    gate_id: str
    outputs: tuple[str, ...] = Field(min_length=1)


class InterfacePack(BaseModel):
    """Output catalogue + gate map of one engine version."""

    model_config = _Open

    interface_version: str
    outputs: tuple[OutputSpec, ...] = Field(min_length=1)
    gates: tuple[GateSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _gate_map_is_closed(self) -> InterfacePack:
        ids = {o.output_id for o in self.outputs}
        gate_ids = {g.gate_id for g in self.gates}
        for output in self.outputs:
            if output.gate not in gate_ids:
                raise ValueError(f"output {output.output_id!r} names unknown gate {output.gate!r}")
        for gate in self.gates:
            unknown = set(gate.outputs) - ids
            if unknown:
                raise ValueError(f"gate {gate.gate_id!r} covers unknown outputs {sorted(unknown)}")
        return self

    def output(self, output_id: str) -> OutputSpec:
        """The catalogue entry of ``output_id``; KeyError if the engine has no such output."""
        for spec in self.outputs:
            if spec.output_id == output_id:
                return spec
        raise KeyError(output_id)

    def gate(self, gate_id: str) -> GateSpec:
        for spec in self.gates:
            if spec.gate_id == gate_id:
                return spec
        raise KeyError(gate_id)


def parse_interface_pack(data: bytes) -> InterfacePack:
    """Parse interface-pack YAML bytes.

    Raises:
        ContractError: not YAML, or not a valid interface pack (reason INTERFACE_PACK_INVALID).
    """
    try:
        return InterfacePack.model_validate(yaml.safe_load(data))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ContractError(f"interface pack invalid: {exc}",
                            reason_code="INTERFACE_PACK_INVALID") from exc

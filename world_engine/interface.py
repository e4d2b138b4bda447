"""The engine's interface pack: its output catalogue and gate map, loaded and checked.

This module owns the reading of ``interface/interface_pack.v1.yaml`` (the file the platform
sees, copied byte for byte into every pack) and turns each output's column list into the Arrow
schema the pack writer enforces, so the catalogue and the Parquet files cannot drift apart.
The engine's name and version are read from the same file: it is their single source.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from app.rails.canonical_json import sha256_hex

__all__ = [
    "INTERFACE_PACK_PATH",
    "ColumnSpec",
    "GateSpec",
    "InterfacePack",
    "OutputSpec",
    "Role",
    "load_interface_pack",
]

INTERFACE_PACK_PATH = Path(__file__).parent / "interface" / "interface_pack.v1.yaml"

Role = Literal["business_traffic", "label_feed", "truth", "reference"]
ColumnType = Literal["string", "int64", "float64", "bool", "timestamp[us, tz=UTC]"]
"""``float64`` carries imported numeric features (``fp world import``); money is never float."""

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "timestamp[us, tz=UTC]": pa.timestamp("us", tz="UTC"),
}
_Closed = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(BaseModel):
    model_config = _Closed

    name: str
    type: ColumnType
    nullable: bool
    description: str | None = None


class OutputSpec(BaseModel):
    model_config = _Closed

    output_id: str
    role: Role
    event_type: str | None
    schema_version: str
    primary_key: tuple[str, ...]
    time_column: str | None
    path_template: str
    gate: str
    description: str | None = None
    columns: tuple[ColumnSpec, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def arrow_schema(self) -> pa.Schema:
        """The exact Arrow schema of this output's Parquet files."""
        return pa.schema(
            [pa.field(c.name, _ARROW_TYPES[c.type], nullable=c.nullable) for c in self.columns]
        )

    def part_path(self, utc_day: str, part: int) -> str:
        """Relative POSIX path of one part file."""
        return self.path_template.format(utc_day=utc_day, part=part)


class GateSpec(BaseModel):
    model_config = _Closed

    gate_id: str
    outputs: tuple[str, ...]


class EngineSpec(BaseModel):
    model_config = _Closed

    name: str
    version: str


class InterfacePack(BaseModel):
    """The parsed interface pack plus the sha256 of its bytes."""

    model_config = _Closed

    interface_version: str
    engine: EngineSpec
    outputs: tuple[OutputSpec, ...]
    gates: tuple[GateSpec, ...]

    @model_validator(mode="after")
    def _consistent(self) -> InterfacePack:
        ids = [o.output_id for o in self.outputs]
        gated = [o for g in self.gates for o in g.outputs]
        if sorted(gated) != sorted(ids):
            raise ValueError("every output must be covered by exactly one gate")
        for out in self.outputs:
            names = out.column_names
            needed = [*out.primary_key, *([out.time_column] if out.time_column else [])]
            if len(set(names)) != len(names) or not set(needed) <= set(names):
                raise ValueError(f"{out.output_id}: duplicate columns or missing key/time column")
            if out.role in ("business_traffic", "label_feed") and not out.event_type:
                raise ValueError(f"{out.output_id}: streamed roles need an event_type")
            if (out.time_column is None) != (out.role == "reference"):
                raise ValueError(f"{out.output_id}: only reference outputs lack a time column")
            if next(g.gate_id for g in self.gates if out.output_id in g.outputs) != out.gate:
                raise ValueError(f"{out.output_id}: gate field disagrees with the gate map")
        return self

    def output(self, output_id: str) -> OutputSpec:
        """The catalogue entry of ``output_id``."""
        for out in self.outputs:
            if out.output_id == output_id:
                return out
        raise KeyError(output_id)


@cache
def _load() -> tuple[bytes, InterfacePack]:
    raw = INTERFACE_PACK_PATH.read_bytes()
    return raw, InterfacePack.model_validate(yaml.safe_load(raw))


def load_interface_pack() -> tuple[bytes, InterfacePack, str]:
    """The interface pack's exact bytes, its parsed form, and the sha256 hex of the bytes."""
    raw, pack = _load()
    return raw, pack, sha256_hex(raw)

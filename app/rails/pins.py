"""ContextPins: the four values that say which run a record belongs to, plus the seed type.

This module owns the run-isolation rail. ``manifest_fingerprint`` and ``parameter_hash`` (hex64)
identify the world and its parameter pack, ``scenario_id`` the scenario, and ``run_id`` (hex32) is
SR's run, derived from the run request's equivalence key; the engine's own execution id is
``engine_run_id`` and never appears here. Every event, record and artifact that claims a run
carries all four, and nothing joins, dedupes or reads across runs. ``seed`` is deliberately *not*
a pin: it is a separate required field on seed-variant data.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from app.rails.ids import Hex32, Hex64

__all__ = ["SCENARIO_ID_PATTERN", "SEED_MAX", "ContextPins", "ScenarioId", "Seed"]

SCENARIO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
"""Safe as an object-store path token: no slash, no '..' prefix, no spaces, at most 128 chars."""

ScenarioId = Annotated[str, Strict(), StringConstraints(pattern=SCENARIO_ID_PATTERN)]

SEED_MAX = 2**63 - 1
"""Seeds are stored as signed 64-bit integers (Parquet INT64, Kafka headers), so they stay below."""

Seed = Annotated[int, Strict(), Field(ge=0, le=SEED_MAX)]
"""The world generator's seed: an integer in [0, 2**63 - 1]."""


class ContextPins(BaseModel):
    """Which run a record belongs to; equal pins are the only licence to join or dedupe."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    manifest_fingerprint: Hex64
    parameter_hash: Hex64
    scenario_id: ScenarioId
    run_id: Hex32

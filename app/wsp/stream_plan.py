"""The StreamPlan: what WSP streams for a READY run, derived from ``run_facts_view`` alone.

This module keeps two rails. *No PASS, no read* and *no scanning*: the plan lists exactly the
outputs SR put in the view with ``streamed=True`` and a streamable role (``business_traffic``,
``label_feed``), and exactly the files (with the digests) SR verified; truth and reference
outputs never enter a plan, and a view that marks them streamed is refused rather than filtered.
*By-ref*: the plan carries locators and digests, never rows.

Files are ordered by their ``utc_day`` partition (then part number): rows of a part are sorted by
event time and a part holds one UTC day of its output, so file order is event-time order and
"the first N rows" of an output (the smoke-test cap) is a prefix of its files.

The plan's digest (sha256 over its canonical JSON) is what checkpoints refer to: a resumed stream
must follow the same plan (same view, same cap), or it is a different stream.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.rails.digests import Digest, digest_json
from app.rails.envelope import EventType, SchemaVersion
from app.rails.ids import Hex32
from app.rails.pins import ContextPins, Seed
from app.rails.reason_codes import ReasonCode
from app.rails.run_facts import FactFile, FactOutput, RunFactsView
from app.wsp.errors import StreamPlanError

__all__ = [
    "STREAM_PLAN_FORMAT",
    "PlannedFile",
    "PlannedOutput",
    "StreamPlan",
    "plan_for",
]

STREAM_PLAN_FORMAT = "fp.wsp.stream_plan.v1"
"""Version of the plan's shape; part of the digest, so a new shape never matches old checkpoints."""

_Closed = ConfigDict(extra="forbid", frozen=True)
_UTC_DAY = re.compile(r"(?:^|/)utc_day=([0-9]{4}-[0-9]{2}-[0-9]{2})/")
_PART = re.compile(r"part-([0-9]+)\.parquet$")

StreamedRole = Literal["business_traffic", "label_feed"]


class PlannedFile(BaseModel):
    """One verified part of a streamed output, in stream order."""

    model_config = _Closed

    path: str = Field(description="Relative to the pack folder, POSIX (as in the view).")
    utc_day: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    digest: Digest = Field(description="sha256 of the part's bytes, as SR verified it.")
    size_bytes: int = Field(ge=0)


class PlannedOutput(BaseModel):
    """One streamed output: its framing, its files in event-time order, and how many rows."""

    model_config = _Closed

    output_id: str
    role: StreamedRole
    event_type: EventType
    schema_version: SchemaVersion
    time_column: str = Field(min_length=1, description="Event-time column; becomes ts_utc.")
    primary_key: tuple[str, ...] = Field(min_length=1)
    gate_id: str
    row_count: int = Field(ge=0, description="Rows of the output in the pack (from the view).")
    rows_planned: int = Field(ge=0, description="Rows to stream: row_count, or the cap if lower.")
    files: tuple[PlannedFile, ...]


class StreamPlan(BaseModel):
    """Everything WSP streams for one run, pinned by content; see :meth:`digest`."""

    model_config = _Closed

    plan_format: Literal["fp.wsp.stream_plan.v1"] = STREAM_PLAN_FORMAT
    run_id: Hex32
    pins: ContextPins
    seed: Seed
    world_locator: str
    run_facts_digest: Digest = Field(
        description="Digest of the run_facts_view's canonical JSON (the READY locator's digest)."
    )
    max_rows_per_output: int | None = Field(
        default=None, ge=1, description="Smoke-test cap: first N rows per output in event time."
    )
    outputs: tuple[PlannedOutput, ...]
    total_rows: int = Field(ge=0, description="Sum of rows_planned over outputs.")

    def digest(self) -> Digest:
        """sha256 over the plan's canonical JSON: the identity checkpoints refer to."""
        return digest_json(self.model_dump(mode="json"))

    def output(self, output_id: str) -> PlannedOutput:
        """The planned output ``output_id``.

        Raises:
            KeyError: the plan does not stream that output.
        """
        for planned in self.outputs:
            if planned.output_id == output_id:
                return planned
        raise KeyError(output_id)


def plan_for(view: RunFactsView, max_rows_per_output: int | None = None) -> StreamPlan:
    """Derive the StreamPlan of a READY run from its ``run_facts_view`` (never from the store).

    Args:
        view: SR's run_facts_view (every output in it passed its gate).
        max_rows_per_output: the policy's smoke-test cap, or None to stream everything.

    Raises:
        StreamPlanError: a truth or reference output is marked streamed, a streamed output lacks
            framing info, a part path has no ``utc_day`` token, or the cap is below 1.
    """
    if max_rows_per_output is not None and (
        isinstance(max_rows_per_output, bool) or max_rows_per_output < 1
    ):
        raise StreamPlanError(view.run_id, None,
                              f"max_rows_per_output must be None or >= 1, got "
                              f"{max_rows_per_output!r}")
    outputs = tuple(
        _planned_output(view.run_id, fact, max_rows_per_output)
        for fact in view.outputs
        if fact.streamed
    )
    return StreamPlan(
        run_id=view.run_id,
        pins=view.pins,
        seed=view.seed,
        world_locator=view.world_locator,
        run_facts_digest=digest_json(view.model_dump(mode="json")),
        max_rows_per_output=max_rows_per_output,
        outputs=outputs,
        total_rows=sum(o.rows_planned for o in outputs),
    )


def _planned_output(run_id: str, fact: FactOutput, cap: int | None) -> PlannedOutput:
    role = fact.role
    if role == "truth" or role == "reference":
        code = (ReasonCode.TRUTH_NOT_STREAMABLE if role == "truth"
                else ReasonCode.ROLE_NOT_STREAMABLE)
        raise StreamPlanError(run_id, fact.output_id,
                              f"role {role!r} is marked streamed; only business_traffic and "
                              "label_feed outputs are ever streamed", reason_code=code)
    event_type, schema_version, time_column = (fact.event_type, fact.schema_version,
                                               fact.time_column)
    if not event_type or not schema_version or not time_column:
        missing = [name for name in ("event_type", "schema_version", "time_column")
                   if not getattr(fact, name)]
        raise StreamPlanError(run_id, fact.output_id,
                              f"streamed output lacks framing info {missing}")
    files = sorted((_planned_file(run_id, fact.output_id, f) for f in fact.files),
                   key=_file_order)
    return PlannedOutput(
        output_id=fact.output_id,
        role=role,
        event_type=event_type,
        schema_version=schema_version,
        time_column=time_column,
        primary_key=fact.primary_key,
        gate_id=fact.gate_id,
        row_count=fact.row_count,
        rows_planned=fact.row_count if cap is None else min(cap, fact.row_count),
        files=tuple(files),
    )


def _planned_file(run_id: str, output_id: str, fact: FactFile) -> PlannedFile:
    match = _UTC_DAY.search(fact.path)
    if match is None:
        raise StreamPlanError(run_id, output_id,
                              f"part {fact.path} has no utc_day=YYYY-MM-DD partition token, so "
                              "its place in event-time order is unknown")
    return PlannedFile(path=fact.path, utc_day=match[1], digest=fact.digest,
                       size_bytes=fact.size_bytes)


def _file_order(planned: PlannedFile) -> tuple[str, int, str]:
    part = _PART.search(planned.path)
    return planned.utc_day, int(part[1]) if part else -1, planned.path

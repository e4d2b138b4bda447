"""Framing: one engine row becomes one canonical envelope, and one record for IG's intake.

This module keeps the envelope and id rails for engine traffic:

- ``event_id = engine_event_id(output_id, primary-key values, manifest_fingerprint,
  parameter_hash, seed, scenario_id)``: no run_id and no clock, so the same world row has the
  same id in every run and on every re-send (IG answers a re-send DUPLICATE);
- ``ts_utc`` is the row's event-time column (domain time); ``emitted_at_utc`` comes from the
  injected emission clock ``now_micros``; speedup and resends never touch ``ts_utc``;
- ``payload`` is every other column of the row, timestamps in the exact wire form, nulls kept
  as ``null`` (a missing value is information: card-present rows have no device);
- the four pins and the seed come from the run (the plan or the run_facts_view).

IG dedupes on ``(run_id, event_type, event_id)`` and compares payload hashes, and the payload
holds no emission time, so a re-framed row is byte-identical where it matters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from app.rails.envelope import CanonicalEnvelope, dump_envelope
from app.rails.errors import ContractError
from app.rails.ids import engine_event_id
from app.rails.partition_key import derive_partition_key, partition_key_bytes
from app.rails.pins import ContextPins
from app.rails.timefmt import epoch_micros_to_ts
from app.wsp.row_source import SourceRow
from app.wsp.stream_plan import PlannedOutput

__all__ = ["PRODUCER", "NowMicros", "RunContext", "frame", "ingress_record"]

PRODUCER = "fp.wsp"
"""The ``producer`` WSP stamps on every envelope (an identifier, never a credential)."""

NowMicros = Callable[[], int]
"""The emission clock: integer epoch microseconds, UTC (``emitted_at_utc``)."""


class RunContext(Protocol):
    """What framing needs of the run: a :class:`StreamPlan` and a ``RunFactsView`` both fit."""

    @property
    def run_id(self) -> str: ...

    @property
    def pins(self) -> ContextPins: ...

    @property
    def seed(self) -> int: ...


def frame(row: SourceRow, output: PlannedOutput, context: RunContext, *,
          now_micros: NowMicros) -> CanonicalEnvelope:
    """The canonical envelope of one engine row (see the module docstring for each field).

    Args:
        row: a row of ``output`` from the row source.
        output: the planned output (event type, schema version, time column).
        context: the run: its pins, seed and run_id.
        now_micros: emission clock, read once per envelope.

    Raises:
        ContractError: the row belongs to another output, the context's pins name another run,
            or a value cannot go on the wire (pydantic's ValidationError is a ValueError).
    """
    if row.output_id != output.output_id:
        raise ContractError(f"framing: row of {row.output_id!r} framed as {output.output_id!r}")
    pins = context.pins
    if pins.run_id != context.run_id:
        raise ContractError(f"framing: pins name run {pins.run_id}, the run is {context.run_id}")
    time_column, ts_columns = output.time_column, row.timestamp_columns
    payload: dict[str, Any] = {
        name: epoch_micros_to_ts(value) if name in ts_columns and value is not None else value
        for name, value in row.row.items()
        if name != time_column
    }
    # Valid by construction, so validation is skipped (it was a third of framing's cost): the
    # event type, schema version, pins and seed come from validated models, the id and times from
    # the rail functions, and dump_envelope still refuses a payload without a canonical form. IG
    # parses every record strictly anyway; the tests parse every framed row of a real world.
    return CanonicalEnvelope.model_construct(
        event_id=engine_event_id(output.output_id, row.pk_values, pins.manifest_fingerprint,
                                 pins.parameter_hash, context.seed, pins.scenario_id),
        event_type=output.event_type,
        schema_version=output.schema_version,
        ts_utc=epoch_micros_to_ts(row.time_micros),
        manifest_fingerprint=pins.manifest_fingerprint,
        parameter_hash=pins.parameter_hash,
        scenario_id=pins.scenario_id,
        run_id=pins.run_id,
        seed=context.seed,
        emitted_at_utc=epoch_micros_to_ts(now_micros()),
        producer=PRODUCER,
        payload=payload,
    )


def ingress_record(envelope: CanonicalEnvelope, precedence: Sequence[str]) -> tuple[bytes, bytes]:
    """``(key, value)`` for ``fp.ig.ingress.v1``: the event's partition key and canonical bytes.

    Keyed by the partition key IG will stamp, the ingress record lands on the partition numbered
    like its traffic partition: one IG partition feeds one traffic partition, so the rows of an
    entity reach the hot path in WSP's event-time order. (Keyed by the dedupe key, the rows of
    one card crossed IG through different partitions, and faust's uneven fetching across them
    put traffic partitions tens of hours out of event-time order at full speed.) Every re-send
    of a row lands on the same partition, where its dedupe state lives.
    """
    key = derive_partition_key(envelope, precedence)
    return partition_key_bytes(key), dump_envelope(envelope)

"""WSP's progress per (run_id, output_id): how many rows of the plan IG has accepted.

This module keeps the resume rail: a checkpoint only moves forward (``rows_done`` is monotonic;
a stale or redelivered update is a no-op), and it belongs to exactly one plan: progress recorded
under another plan digest (another view, another cap) is a conflict, never silently reused.
``rows_done = K`` means rows ``0 .. K-1`` of the output (in its event-time order) were accepted
by IG, so a restart streams from row K; rows re-sent around a crash come back DUPLICATE from IG.

The agent stores checkpoints in a changelog-backed table keyed by :func:`checkpoint_key` and
advances one only after IG accepted that row, and only over a contiguous prefix of rows.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.rails.digests import Digest
from app.rails.ids import Hex32
from app.wsp.errors import CheckpointConflictError
from app.wsp.stream_plan import StreamPlan

__all__ = ["WspCheckpoint", "advance", "checkpoint_key", "resume_row", "resume_rows"]


class WspCheckpoint(BaseModel):
    """Rows of one output of one run accepted by IG, under one plan."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    run_id: Hex32
    output_id: str = Field(min_length=1)
    plan_digest: Digest
    rows_done: int = Field(ge=0)


def checkpoint_key(run_id: str, output_id: str) -> str:
    """Table key of a checkpoint (v1): ``<run_id>|<output_id>`` (neither contains ``|``)."""
    return f"{run_id}|{output_id}"


def advance(previous: WspCheckpoint | None, proposed: WspCheckpoint) -> WspCheckpoint:
    """The checkpoint after ``proposed`` is applied to ``previous`` (pure, idempotent).

    Returns ``proposed`` if it moves forward, else ``previous`` unchanged (a stale update).

    Raises:
        CheckpointConflictError: ``proposed`` names another run, output or plan digest.
    """
    if previous is None:
        return proposed
    if (previous.run_id, previous.output_id) != (proposed.run_id, proposed.output_id):
        raise CheckpointConflictError(
            previous.run_id, previous.output_id,
            f"an update for run {proposed.run_id} output {proposed.output_id!r} was applied to it")
    if previous.plan_digest != proposed.plan_digest:
        raise CheckpointConflictError(
            previous.run_id, previous.output_id,
            f"recorded under plan {previous.plan_digest.hex}, updated under plan "
            f"{proposed.plan_digest.hex}")
    return proposed if proposed.rows_done > previous.rows_done else previous


def resume_row(checkpoint: WspCheckpoint | None, plan: StreamPlan, output_id: str) -> int:
    """The first row of ``output_id`` still to stream under ``plan`` (0 without a checkpoint).

    Raises:
        KeyError: the plan does not stream ``output_id``.
        CheckpointConflictError: the checkpoint is of another run, output or plan, or counts
            more rows than the plan holds.
    """
    output = plan.output(output_id)
    if checkpoint is None:
        return 0
    if (checkpoint.run_id, checkpoint.output_id) != (plan.run_id, output_id):
        raise CheckpointConflictError(
            checkpoint.run_id, checkpoint.output_id,
            f"asked to resume run {plan.run_id} output {output_id!r} from it")
    digest = plan.digest()
    if checkpoint.plan_digest != digest:
        raise CheckpointConflictError(
            checkpoint.run_id, output_id,
            f"recorded under plan {checkpoint.plan_digest.hex}, the run's plan is now "
            f"{digest.hex} (its view or cap changed)")
    if checkpoint.rows_done > output.rows_planned:
        raise CheckpointConflictError(
            checkpoint.run_id, output_id,
            f"rows_done {checkpoint.rows_done} exceeds the plan's {output.rows_planned} rows")
    return checkpoint.rows_done


def resume_rows(checkpoints: dict[str, WspCheckpoint | None], plan: StreamPlan) -> dict[str, int]:
    """:func:`resume_row` for every planned output; ``checkpoints`` by output_id (absent = none).

    Raises:
        CheckpointConflictError: as :func:`resume_row`, or a checkpoint of an unplanned output.
    """
    planned = {o.output_id for o in plan.outputs}
    for output_id, checkpoint in checkpoints.items():
        if output_id not in planned and checkpoint is not None:
            raise CheckpointConflictError(plan.run_id, output_id,
                                          "the run's plan does not stream this output")
    return {o.output_id: resume_row(checkpoints.get(o.output_id), plan, o.output_id)
            for o in plan.outputs}

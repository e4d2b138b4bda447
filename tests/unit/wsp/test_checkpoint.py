"""Checkpoints: monotonic per (run, output), bound to one plan digest."""

from __future__ import annotations

from typing import Any

import pytest

from app.rails.digests import Digest
from app.rails.run_facts import RunFactsView
from app.wsp.checkpoint import WspCheckpoint, advance, checkpoint_key, resume_row, resume_rows
from app.wsp.errors import CheckpointConflictError
from app.wsp.stream_plan import StreamPlan, plan_for


@pytest.fixture
def make_checkpoint(plan: StreamPlan) -> Any:
    def make(**overrides: Any) -> WspCheckpoint:
        fields = {"run_id": plan.run_id, "output_id": "auth_request",
                  "plan_digest": plan.digest(), "rows_done": 10}
        return WspCheckpoint.model_validate(fields | overrides)

    return make


def test_first_checkpoint_is_taken_as_is(make_checkpoint: Any) -> None:
    assert advance(None, make_checkpoint()) == make_checkpoint()


def test_advance_moves_forward_only(make_checkpoint: Any) -> None:
    at_10 = make_checkpoint(rows_done=10)
    assert advance(at_10, make_checkpoint(rows_done=11)).rows_done == 11
    assert advance(at_10, make_checkpoint(rows_done=3)) is at_10  # stale ack: a no-op
    assert advance(at_10, make_checkpoint(rows_done=10)) is at_10  # redelivery: a no-op


def test_advance_under_another_plan_is_a_conflict(make_checkpoint: Any) -> None:
    other = Digest(algo="sha256", hex="e" * 64)
    with pytest.raises(CheckpointConflictError) as caught:
        advance(make_checkpoint(), make_checkpoint(plan_digest=other, rows_done=99))
    assert caught.value.reason_code == "CHECKPOINT_CONFLICT"


@pytest.mark.parametrize("field,value", [("run_id", "f" * 32), ("output_id", "clearing")])
def test_advance_of_another_run_or_output_is_a_conflict(make_checkpoint: Any, field: str,
                                                        value: str) -> None:
    with pytest.raises(CheckpointConflictError):
        advance(make_checkpoint(), make_checkpoint(**{field: value}))


def test_resume_starts_at_rows_done_or_zero(plan: StreamPlan, make_checkpoint: Any) -> None:
    assert resume_row(None, plan, "auth_request") == 0
    assert resume_row(make_checkpoint(rows_done=42), plan, "auth_request") == 42
    done = plan.output("auth_request").rows_planned
    assert resume_row(make_checkpoint(rows_done=done), plan, "auth_request") == done


def test_resume_under_a_changed_plan_is_refused(view: RunFactsView,
                                                make_checkpoint: Any) -> None:
    capped = plan_for(view, max_rows_per_output=5)
    with pytest.raises(CheckpointConflictError, match="plan"):
        resume_row(make_checkpoint(rows_done=3), capped, "auth_request")


def test_resume_past_the_plans_rows_is_refused(plan: StreamPlan, make_checkpoint: Any) -> None:
    too_many = plan.output("auth_request").rows_planned + 1
    with pytest.raises(CheckpointConflictError, match="exceeds"):
        resume_row(make_checkpoint(rows_done=too_many), plan, "auth_request")


def test_resume_with_another_outputs_checkpoint_is_refused(plan: StreamPlan,
                                                          make_checkpoint: Any) -> None:
    with pytest.raises(CheckpointConflictError):
        resume_row(make_checkpoint(output_id="clearing"), plan, "auth_request")


def test_resume_rows_covers_every_planned_output(plan: StreamPlan, make_checkpoint: Any) -> None:
    starts = resume_rows({"auth_request": make_checkpoint(rows_done=7)}, plan)
    assert starts == {o.output_id: 7 if o.output_id == "auth_request" else 0
                      for o in plan.outputs}


def test_resume_rows_refuses_a_checkpoint_of_an_unplanned_output(plan: StreamPlan,
                                                                 make_checkpoint: Any) -> None:
    with pytest.raises(CheckpointConflictError, match="does not stream"):
        resume_rows({"flow_truth": make_checkpoint(output_id="flow_truth")}, plan)


def test_checkpoint_round_trips_through_json_and_has_a_stable_key(make_checkpoint: Any) -> None:
    checkpoint = make_checkpoint()
    assert WspCheckpoint.model_validate_json(checkpoint.model_dump_json()) == checkpoint
    assert checkpoint_key(checkpoint.run_id, "auth_request") == f"{checkpoint.run_id}|auth_request"


def test_rows_done_is_never_negative(make_checkpoint: Any) -> None:
    with pytest.raises(ValueError):
        make_checkpoint(rows_done=-1)

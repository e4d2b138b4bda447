"""StreamPlan: derived from the run_facts_view alone; streamed outputs only; digest-pinned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.rails.digests import digest_json
from app.rails.reason_codes import ReasonCode
from app.rails.run_facts import FactOutput, RunFactsView
from app.wsp.errors import StreamPlanError
from app.wsp.stream_plan import StreamPlan, plan_for
from tests.unit.wsp.conftest import STREAMED, build_view


def _with_output(view: RunFactsView, output_id: str, **changes: Any) -> RunFactsView:
    outputs = tuple(o.model_copy(update=changes) if o.output_id == output_id else o
                    for o in view.outputs)
    return view.model_copy(update={"outputs": outputs})


def _fact(view: RunFactsView, output_id: str) -> FactOutput:
    return next(o for o in view.outputs if o.output_id == output_id)


def test_plan_lists_exactly_the_streamed_outputs_with_the_packs_row_counts(
    plan: StreamPlan, manifest: dict[str, Any]
) -> None:
    counts = {o["output_id"]: o["row_count"] for o in manifest["outputs"]}
    assert [o.output_id for o in plan.outputs] == list(STREAMED)
    assert {o.output_id: o.row_count for o in plan.outputs} == {k: counts[k] for k in STREAMED}
    assert all(o.rows_planned == o.row_count for o in plan.outputs)
    assert plan.total_rows == sum(counts[k] for k in STREAMED)


def test_truth_and_reference_never_enter_a_plan(plan: StreamPlan) -> None:
    assert {o.role for o in plan.outputs} == {"business_traffic", "label_feed"}
    assert "flow_truth" not in {o.output_id for o in plan.outputs}


def test_plan_carries_framing_and_files_from_the_view(view: RunFactsView, plan: StreamPlan) -> None:
    label = plan.output("label_event")
    fact = _fact(view, "label_event")
    assert (label.event_type, label.schema_version, label.time_column, label.primary_key) == (
        "label_event", "v1", "observed_ts_utc", ("label_event_id",))
    assert {(f.path, f.digest, f.size_bytes) for f in label.files} == {
        (f.path, f.digest, f.size_bytes) for f in fact.files}
    assert (plan.run_id, plan.pins, plan.seed) == (view.run_id, view.pins, view.seed)


def test_files_are_in_utc_day_order(plan: StreamPlan) -> None:
    for output in plan.outputs:
        days = [f.utc_day for f in output.files]
        assert days == sorted(days) and len(set(days)) == len(days)
        assert all(f"/utc_day={f.utc_day}/" in f.path for f in output.files)


def test_file_order_comes_from_utc_day_not_from_the_views_order(
    view: RunFactsView, plan: StreamPlan
) -> None:
    fact = _fact(view, "clearing")
    shuffled = _with_output(view, "clearing", files=tuple(reversed(fact.files)))
    assert plan_for(shuffled).output("clearing").files == plan.output("clearing").files


def test_run_facts_digest_is_the_digest_of_the_views_canonical_json(
    view: RunFactsView, plan: StreamPlan
) -> None:
    assert plan.run_facts_digest == digest_json(view.model_dump(mode="json"))


def test_cap_plans_the_first_n_rows_of_each_output(view: RunFactsView) -> None:
    capped = plan_for(view, max_rows_per_output=10)
    assert capped.max_rows_per_output == 10
    assert {o.output_id: o.rows_planned for o in capped.outputs} == {
        o.output_id: min(10, o.row_count) for o in capped.outputs}
    assert capped.total_rows == sum(o.rows_planned for o in capped.outputs)


def test_plan_digest_is_stable_and_changes_with_the_cap(view: RunFactsView,
                                                        plan: StreamPlan) -> None:
    assert plan_for(view).digest() == plan.digest()
    assert plan_for(view, 10).digest() != plan.digest()
    assert StreamPlan.model_validate_json(plan.model_dump_json()).digest() == plan.digest()


def test_plan_digest_changes_with_the_run(view: RunFactsView, plan: StreamPlan) -> None:
    other = view.model_copy(update={"run_id": "f" * 32,
                                    "pins": view.pins.model_copy(update={"run_id": "f" * 32})})
    assert plan_for(other).digest() != plan.digest()


def test_a_request_for_a_subset_streams_only_that_subset(tiny_world: Path) -> None:
    subset = plan_for(build_view(tiny_world, streamed_outputs=("auth_request", "label_event")))
    assert [o.output_id for o in subset.outputs] == ["auth_request", "label_event"]


def test_truth_marked_streamed_is_refused_not_filtered(view: RunFactsView) -> None:
    with pytest.raises(StreamPlanError) as caught:
        plan_for(_with_output(view, "flow_truth", streamed=True))
    assert caught.value.reason_code == ReasonCode.TRUTH_NOT_STREAMABLE
    assert caught.value.output_id == "flow_truth"


def test_reference_marked_streamed_is_refused(view: RunFactsView) -> None:
    with pytest.raises(StreamPlanError) as caught:
        plan_for(_with_output(view, "merchants", streamed=True))
    assert caught.value.reason_code == ReasonCode.ROLE_NOT_STREAMABLE


def test_a_streamed_output_without_a_time_column_is_refused(view: RunFactsView) -> None:
    with pytest.raises(StreamPlanError, match="time_column") as caught:
        plan_for(_with_output(view, "refund", time_column=None))
    assert caught.value.reason_code == "STREAM_PLAN_INVALID"


def test_a_part_path_without_utc_day_is_refused(view: RunFactsView) -> None:
    fact = _fact(view, "reversal")
    bad = fact.files[0].model_copy(update={"path": "outputs/reversal/part-00000.parquet"})
    with pytest.raises(StreamPlanError, match="utc_day"):
        plan_for(_with_output(view, "reversal", files=(bad, *fact.files[1:])))


@pytest.mark.parametrize("cap", [0, -1, True])
def test_a_cap_below_one_is_refused(view: RunFactsView, cap: int) -> None:
    with pytest.raises(StreamPlanError, match="max_rows_per_output"):
        plan_for(view, cap)

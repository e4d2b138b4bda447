"""Case management on the real broker: the suite's shared pipeline run (every agent in one
worker, ``kill -9``-ed mid-stream and restarted; ``tests/fixtures/pipeline.py``). AL routes each
OPEN_CASE intent to case management: every one of them opened exactly one case, named on its
outcome, and no case exists that no intent asked for. A dispute or chargeback on a flow the
platform approved opened exactly one case too, and no other label did."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from app.cases.label_cases import NEEDS_A_LOOK, case_id_for_label
from app.cases.log import case_id_for_action, list_case_ids, read_case
from app.cases.model import Case
from app.eb.topics import Topic
from app.objectstore.config import open_object_store
from app.rails.case import CaseState
from tests.fixtures.pipeline import PipelineRun
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]


def _cases(run: PipelineRun) -> dict[str, Case]:
    async def read() -> dict[str, Case]:
        async with open_object_store(run.profile.wiring.object_store,
                                     base_dir=run.profile.base_dir) as store:
            out = {}
            for case_id in await list_case_ids(store):
                case = await read_case(store, case_id)
                assert case is not None
                out[case_id] = case
            return out
    return asyncio.run(read())


def test_every_open_case_intent_opened_exactly_one_case(pipeline_run: PipelineRun) -> None:
    bodies = [orjson.loads(r.value) for r in pipeline_run.read(Topic.RTDL)]
    intents = {i["action_id"]: d for d in bodies if d.get("record_type") == "decision"
               for i in d["intents"] if i["action_type"] == "OPEN_CASE"}
    assert intents, "the run made no REVIEW decision: nothing to judge"
    outcomes = {o["action_id"]: o for o in bodies if o.get("record_type") == "action_outcome"
                and o["action_type"] == "OPEN_CASE"}
    cases = _cases(pipeline_run)
    assert {c for c, case in cases.items() if case.opened.label_id is None} == {
        case_id_for_action(a) for a in intents}
    for action_id, decision in intents.items():
        case = cases[case_id_for_action(action_id)]
        assert case.state is CaseState.OPEN and case.version == 1
        opened = case.opened
        assert (opened.action_id, opened.decision_id, opened.run_id) == (
            action_id, decision["decision_id"], decision["pins"]["run_id"])
        assert opened.at_utc == decision["trigger"]["ts_utc"]
        outcome = outcomes[action_id]
        assert outcome["status"] == "EXECUTED" and outcome["executor"] == "case_management"
        assert outcome["side_effect_ref"] == f"case:{case.case_id}"


def test_disputes_and_chargebacks_on_approved_flows_opened_one_case_each(
        pipeline_run: PipelineRun) -> None:
    bodies = [orjson.loads(r.value) for r in pipeline_run.read(Topic.RTDL)]
    outcomes: dict[str, set[str]] = {}  # flow -> every outcome its decisions had
    for d in bodies:
        if d.get("record_type") == "decision" and d["pins"]["run_id"] == pipeline_run.run_id:
            for flow in {i["subject"].get("flow_id") for i in d["intents"]} - {None}:
                outcomes.setdefault(flow, set()).add(d["outcome"])
    looks = {e["payload"]["label_event_id"]: e["payload"]["flow_id"]
             for e in map(orjson.loads, (r.value for r in pipeline_run.read(Topic.LABELS)))
             if e.get("run_id") == pipeline_run.run_id
             and e["payload"]["label_type"] in NEEDS_A_LOOK
             and e["payload"]["label_value"] in ("fraud", "abuse")}
    must = {case_id_for_label(pipeline_run.run_id, label): label
            for label, flow in looks.items() if outcomes.get(flow) == {"APPROVE"}}
    may = must | {case_id_for_label(pipeline_run.run_id, label): label  # re-decided flows
                  for label, flow in looks.items() if "APPROVE" in outcomes.get(flow, ())}
    assert must, "no dispute or chargeback on an approved flow in this world: nothing to judge"

    def opened() -> tuple[bool, str]:
        found = {c for c, case in _cases(pipeline_run).items() if case.opened.label_id}
        return set(must) <= found, f"{len(found & set(must))}/{len(must)}"
    wait_for(opened, 120, "the Label Store to triage every dispute and chargeback")
    by_label = {c: case for c, case in _cases(pipeline_run).items() if case.opened.label_id}
    assert set(must) <= set(by_label) <= set(may)
    for case_id, case in by_label.items():
        assert case.opened.label_id == may[case_id] and case.opened.action_id is None
        assert case.opened.flow_id == looks[may[case_id]] and case.state is CaseState.OPEN


def test_kill_9_rewrote_no_case_event_and_lost_no_case(pipeline_run: PipelineRun) -> None:
    """Case events and evidence are create-only: what the crash left is there byte for byte,
    and every case open at the crash is still one case with the same history so far."""
    assert pipeline_run.cases_at_crash, "no case was open at the crash: nothing to judge"
    after = pipeline_run.objects("cases")
    for key, data in pipeline_run.cases_at_crash.items():
        assert after.get(key) == data

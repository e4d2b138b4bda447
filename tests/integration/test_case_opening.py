"""Case management on the real broker: the suite's shared pipeline run (every agent in one
worker, ``kill -9``-ed mid-stream and restarted; ``tests/fixtures/pipeline.py``). AL routes each
OPEN_CASE intent to case management: every one of them opened exactly one case, named on its
outcome, and no case exists that no intent asked for."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from app.cases.log import case_id_for_action, list_case_ids, read_case
from app.cases.model import Case
from app.eb.topics import Topic
from app.objectstore.config import open_object_store
from app.rails.case import CaseState
from tests.fixtures.pipeline import PipelineRun

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
    assert set(cases) == {case_id_for_action(a) for a in intents}
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

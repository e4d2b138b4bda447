"""DESIGN section 10 on a real run: the invariants that exist so far, judged from outside.

The run (``tests/fixtures/pipeline.py``) is a tiny world through the whole decision loop with a
``kill -9`` of the worker mid-stream and a misbehaving payment switch. Every check reads the
bus, the switch's side-effect log and DLA's audit store (``app.conformance``), never the
platform's own counters. A failure prints the check's verdict line with sample violations.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult
from app.conformance.suite import CHECKS
from app.eb.topics import Topic
from app.hotpath.replay import decision_stream, replay_profile, stream_digest
from app.rails.posture import Posture
from tests.fixtures.pipeline import PipelineRun

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def evidence(pipeline_run: PipelineRun) -> RunEvidence:
    return pipeline_run.evidence()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_invariant_holds_on_a_real_run_with_a_crash(check: Callable[[RunEvidence], CheckResult],
                                                    evidence: RunEvidence,
                                                    pipeline_run: PipelineRun) -> None:
    assert pipeline_run.crashed_with > 0
    result = check(evidence)
    assert result.skipped is None, result.line()
    assert result.examined > 0, result.line()
    assert result.ok, result.line()


def test_the_switch_misbehaved_and_every_path_ended_in_one_outcome(evidence: RunEvidence) -> None:
    """The faults were real: retries, FAILED outcomes and re-used side effects are on the bus."""
    outcomes = [o for _r, o in evidence.rtdl_of_type("action_outcome")]
    statuses = {o["status"] for o in outcomes}
    assert {"EXECUTED", "FAILED"} <= statuses, statuses
    assert any(len(o["attempts"]) > 1 for o in outcomes), "no retry happened"


def test_the_restarted_worker_resumed_the_hot_path_from_a_fold_snapshot(
        pipeline_run: PipelineRun) -> None:
    """Issue #12: after the kill -9 the hot path loaded the newest snapshot of its run folds and
    replayed only the tail (every check above and the replay below hold all the same)."""
    lines = pipeline_run.worker.log_path.read_text().splitlines()
    prepared = [json.loads(line[line.index("{"):]) for line in lines
                if '"event":"hotpath.prepared"' in line]
    assert any(p["resumed_at"] > 0 and p["runs"] > 0 for p in prepared), prepared


def test_replay_determinism_of_decisions_in_a_fresh_group(pipeline_run: PipelineRun) -> None:
    """Same input offsets, same derived state: a fresh group re-decides byte for byte."""
    emitted = decision_stream(r.value for r in pipeline_run.read(Topic.RTDL))
    replayed = asyncio.run(replay_profile(pipeline_run.profile, group_id="conformance-replay",
                                          posture=Posture.NORMAL))
    assert len(replayed.decisions) == len(emitted)
    assert stream_digest(replayed.decisions) == stream_digest(emitted)

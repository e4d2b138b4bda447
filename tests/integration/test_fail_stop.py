"""An infrastructure failure in an agent stops the worker without a commit, and nothing is lost.

faust's own error path would commit the failed batch and restart the actor in-process, skipping
its records. Here AL's executor cannot write its side-effect log (a plain file stands where the
log's folder should be): the worker must exit with the fail-stop code, leave no outcome behind,
and once the folder is fixed and the worker restarted, every intent must end in exactly one
outcome with one side effect each — judged by the conformance checks from the bus and the log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.conformance.action_outcomes import check_action_outcomes
from app.conformance.collect import collect_evidence
from app.eb.embedded_broker import BrokerState
from app.profiles.loader import load_profile
from app.runtime.fail_stop import FAIL_STOP_EXIT_CODE
from tests.fixtures.broker import Cluster
from tests.fixtures.worlds import start_world_run
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


def test_a_failing_executor_stops_the_worker_and_the_restart_loses_nothing(
        tiny_world: Path, tmp_path: Path, embedded_broker: BrokerState,
        broker_state_dir: Path) -> None:
    blocked = tmp_path / "switch"
    cluster = Cluster(tmp_path, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"}},
                      wiring_patch={"executor": {"log_dir": str(blocked)}})
    try:
        blocked.write_text("not a folder: the switch cannot open its log")
        worker = cluster.spawn("w1")
        worker.wait_ready()
        profile = load_profile(worker.profile)
        run_id, auths = start_world_run(tiny_world, tmp_path / "oracle", profile)
        code = wait_for(lambda: (worker.proc.poll() is not None, worker.proc.poll()), 180,
                        "the worker to stop itself on AL's failure")
        assert code == FAIL_STOP_EXIT_CODE
        assert "agent al failed" in worker.log_path.read_text()
        before = asyncio.run(collect_evidence(profile, run_id))
        assert before.rtdl_of_type("decision") and not before.rtdl_of_type("action_outcome")

        blocked.unlink()  # the operator fixes the volume; the supervisor restarts the worker
        worker.start().wait_ready()

        def settled() -> tuple[bool, str]:
            if worker.proc.poll() is not None:
                tail = "\n".join(worker.log_path.read_text().splitlines()[-40:])
                pytest.fail(f"the restarted worker exited ({worker.proc.poll()}):\n{tail}")
            evidence = asyncio.run(collect_evidence(profile, run_id))
            intents = sum(len(d["intents"]) for _r, d in evidence.rtdl_of_type("decision"))
            outcomes = len(evidence.rtdl_of_type("action_outcome"))
            decided = len(evidence.rtdl_of_type("decision"))
            return decided >= auths and outcomes >= intents, f"{decided}/{auths} {outcomes}/" \
                f"{intents}"

        wait_for(settled, 400, "every intent to have an outcome after the restart",
                 interval_s=2.0)
        result = check_action_outcomes(asyncio.run(collect_evidence(profile, run_id)))
        assert result.ok and result.examined >= auths, result.line()
    finally:
        cluster.stop_all()

"""AL resumes a partition from its own progress, not from the consumer group's committed offset.

faust acks the records a stream skips during a rebalance (flow control suspended, or a message
of an older generation), and DLA — the other rtdl consumer in the same group — acks them too, so
the group's offset can run past decisions AL never saw (a CI run lost 4 of 1,418 intents that
way after a fail-stop restart). Here the worst case is made on purpose: the world is decided
with no AL deployed, the group's rtdl offsets are committed to the last decision of each
partition, and a worker with AL starts. Every intent must still end in exactly one outcome.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from app.conformance.action_outcomes import check_action_outcomes
from app.conformance.collect import collect_evidence
from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.replay import reset_group_offsets
from app.eb.topics import Topic, topic_name
from app.profiles.loader import Profile, load_profile
from app.runtime.bus_address import bootstrap_servers
from tests.fixtures.broker import Cluster
from tests.fixtures.worlds import start_world_run
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

WITHOUT_AL = ["wsp", "ig", "census", "hotpath"]
ROWS = 400  # the first rows of each output are enough: every partition gets ~100 decisions


async def _commit_to_last_record(profile: Profile) -> dict[int, int]:
    """Commit the app group's rtdl offsets to each partition's last record; returns them."""
    worker = profile.wiring.worker
    topic = topic_name(Topic.RTDL, worker.topic_prefix)
    ends = {r.partition: r.offset for r in await read_topic(  # the last offset of each
        bootstrap_servers(profile)[0], topic, worker.partitions)}
    return await reset_group_offsets(bootstrap_servers(profile), worker.app_id, topic,
                                     worker.partitions, to_offset=ends)


def test_al_executes_decisions_the_group_offset_ran_past(
        tiny_world: Path, tmp_path: Path, embedded_broker: BrokerState,
        broker_state_dir: Path) -> None:
    cluster = Cluster(tmp_path, broker_state_dir, policy_patch={
        "degrade": {"pinned": "NORMAL"}, "testing": {"max_rows_per_output": ROWS}})
    try:
        deciding = cluster.spawn("w1", agents=WITHOUT_AL)
        deciding.wait_ready()
        profile = load_profile(deciding.profile)
        run_id, rows = start_world_run(tiny_world, tmp_path / "oracle", profile)
        auths = min(rows, ROWS)

        def decided() -> tuple[bool, int]:
            n = len(asyncio.run(collect_evidence(profile, run_id)).rtdl_of_type("decision"))
            return n >= auths, n

        wait_for(decided, 300, "every authorisation to be decided", interval_s=2.0)
        assert deciding.stop() == 0
        skipped = asyncio.run(_commit_to_last_record(profile))
        assert sum(skipped.values()) > auths // 2, skipped  # most decisions sit below the offset

        acting = cluster.spawn("w2")  # every agent, AL and DLA included, same group
        acting.wait_ready()

        def settled() -> tuple[bool, str]:
            evidence = asyncio.run(collect_evidence(profile, run_id))
            intents = sum(len(d["intents"]) for _r, d in evidence.rtdl_of_type("decision"))
            outcomes = len(evidence.rtdl_of_type("action_outcome"))
            return outcomes >= intents, f"{outcomes}/{intents}"

        wait_for(settled, 300, "every intent to have an outcome", interval_s=2.0)
        result = check_action_outcomes(asyncio.run(collect_evidence(profile, run_id)))
        assert result.ok and result.examined >= auths, result.line()
        prepared = [orjson.loads(line[line.index("{"):]) for line in
                    acting.log_path.read_text().splitlines() if '"event":"al.prepared"' in line]
        # Each partition resumed from AL's progress (none yet: 0), not from the group's offset
        # (past the decisions): the records before it were read from the log. AL takes every
        # assigned partition, delivered or not: faust may never deliver a partition's only
        # record after such a restart (a run's decisions share one rtdl partition, issue #12).
        taken = {e["partition"]: e for e in prepared}
        assert {p for p, n in skipped.items() if n} <= taken.keys(), prepared
        assert all(e["resume_offset"] == 0 for e in prepared), prepared
        assert all(e["first_delivered"] in (None, skipped.get(e["partition"]))
                   for e in prepared), prepared
    finally:
        cluster.stop_all()

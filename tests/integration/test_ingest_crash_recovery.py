"""``kill -9`` of the worker mid-stream, then a restart: totals exact, no event twice on the bus.

Issue #4. The crash loses whatever IG published but had not yet recorded, and WSP's unacked
progress; on restart WSP resumes from its checkpoint (re-sending some rows) and IG re-learns its
lost admissions from the bus before deciding anything new, so every re-sent row is a DUPLICATE.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest

from app.cli.sr_cmd import sr_run
from app.eb.embedded_broker import BrokerState
from app.eb.topics import Topic, topic_name
from app.ig.receipt_log import read_receipts
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.receipts import IngestionReceipt
from app.sr.run_request import RunRequest
from tests.fixtures.broker import Cluster
from tests.integration.bus_io import is_event, read_all
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


def _receipts(profile: Profile) -> list[IngestionReceipt]:
    async def read() -> list[IngestionReceipt]:
        async with open_object_store(profile.wiring.object_store) as store:
            return await read_receipts(store)

    return asyncio.run(read())


def _admitted_ids(profile: Profile, bootstrap: str) -> Counter[str]:
    ids: Counter[str] = Counter()
    for topic in (Topic.TRAFFIC, Topic.LABELS):
        name = topic_name(topic, profile.wiring.worker.topic_prefix)
        parts = asyncio.run(read_all(bootstrap, name, profile.wiring.worker.partitions))
        ids.update(orjson.loads(v or b"")["event_id"] for records in parts.values()
                   for _, _, v in records if is_event(v))
    return ids


def test_kill_9_mid_stream_then_restart_keeps_totals_exact(
    tiny_world: Path, tmp_path: Path, embedded_broker: BrokerState, broker_state_dir: Path
) -> None:
    cluster = Cluster(tmp_path, broker_state_dir)
    try:
        worker = cluster.spawn("w1")
        worker.wait_ready()
        profile = load_profile(worker.profile)
        world = tmp_path / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
        shutil.copytree(tiny_world, world)
        manifest = orjson.loads((world / "manifest.json").read_bytes())
        total = sum(o["row_count"] for o in manifest["outputs"]
                    if o["role"] in ("business_traffic", "label_feed"))
        outcome = asyncio.run(sr_run(profile, RunRequest(world_locator=str(world),
                                                         scenario_id="baseline")))
        assert outcome.status == "READY"

        wait_for(lambda: ((n := len(_receipts(profile))) >= total // 4, n), 180,
                 "a quarter of the rows to be decided")
        worker.kill9()
        decided_at_crash = len(_receipts(profile))
        assert decided_at_crash < total, "the stream ended before the crash"

        worker.start().wait_ready()
        def all_admitted() -> tuple[bool, dict[str, int]]:
            on_bus = _admitted_ids(profile, embedded_broker.bootstrap)
            admits = {r.event_id for r in _receipts(profile) if r.decision.value == "ADMIT"}
            seen = {"records_on_bus": sum(on_bus.values()), "distinct_on_bus": len(on_bus),
                    "admit_receipts": len(admits)}
            return sum(on_bus.values()) >= total and len(admits) >= total, seen

        wait_for(all_admitted, 300, "every row to be admitted after the restart")
        ids = _admitted_ids(profile, embedded_broker.bootstrap)
        assert len(ids) == total and max(ids.values()) == 1  # no event_id twice on the bus
        decisions = Counter(r.decision.value for r in _receipts(profile))
        assert decisions["QUARANTINE"] == 0
        assert decisions["ADMIT"] == total
    finally:
        cluster.stop_all()

"""Hot path on the real broker: a tiny world streamed through SR -> WSP -> IG -> IEG/OFP/DL/DF.

Issue #5. One module-scoped run (the expensive part) with a ``kill -9`` of the worker once a
quarter of the authorisations are decided, and a restart; the tests then read the topics back:
exactly one decision per admitted ``auth_request`` and none for anything else, byte-identical
decisions from a replay in a fresh consumer group, no truth column anywhere in what DF emitted.
The posture is pinned (NORMAL) so the replay can be compared byte for byte.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.hotpath.replay import decision_stream, replay_profile, stream_digest
from app.profiles.loader import Profile, load_profile
from app.rails.decision import DecisionRecord
from app.rails.posture import Posture
from app.rails.watermark import is_watermark_value
from tests.fixtures.broker import Cluster
from tests.fixtures.worlds import start_world_run
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

TRUTH_COLUMNS = {"is_fraud_or_abuse", "label", "subtype", "campaign_id", "issuer_approved"}


@dataclass
class HotRun:
    profile: Profile
    bootstrap: str
    run_id: str
    worker: Any
    crashed_with: int  # decisions on rtdl when the worker was killed

    def read(self, topic: Topic) -> list[Any]:
        name = topic_name(topic, self.profile.wiring.worker.topic_prefix)
        return asyncio.run(read_topic(self.bootstrap, name, self.profile.wiring.worker.partitions))


def _decisions(run: HotRun) -> list[dict[str, Any]]:
    return [body for r in run.read(Topic.RTDL)
            if (body := orjson.loads(r.value or b"")).get("record_type") == "decision"]


@pytest.fixture(scope="module")
def hot_run(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
            embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[HotRun]:
    root = tmp_path_factory.mktemp("hot-path")
    cluster = Cluster(root, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"}})
    try:
        worker = cluster.spawn("w1")
        worker.wait_ready()
        profile = load_profile(worker.profile)
        run_id, auths = start_world_run(tiny_world, root / "oracle", profile)
        run = HotRun(profile, embedded_broker.bootstrap, run_id, worker, 0)
        wait_for(lambda: ((n := len(_decisions(run))) >= auths // 4, n), 300,
                 "a quarter of the authorisations to be decided")
        worker.kill9()
        run.crashed_with = len(_decisions(run))
        assert run.crashed_with < auths, "the stream ended before the crash: not mid-stream"
        worker.start().wait_ready()
        wait_for(lambda: ((n := len({d["trigger"]["event_id"] for d in _decisions(run)}))
                          >= auths, n), 400, "every authorisation to be decided")
        yield run
    finally:
        cluster.stop_all()


def test_exactly_one_decision_per_admitted_authorisation_across_kill_9(hot_run: HotRun) -> None:
    records = [orjson.loads(r.value) for r in hot_run.read(Topic.TRAFFIC)]
    traffic = [e for e in records if not is_watermark_value(e)]
    assert len(traffic) < len(records)  # IG wrote watermark records between them
    auth_ids = {e["event_id"] for e in traffic if e["event_type"] == "auth_request"}
    other_ids = {e["event_id"] for e in traffic if e["event_type"] != "auth_request"}
    decisions = _decisions(hot_run)
    per_trigger = Counter(d["trigger"]["event_id"] for d in decisions)
    assert hot_run.crashed_with > 0
    assert set(per_trigger) == auth_ids
    assert max(per_trigger.values()) == 1, per_trigger.most_common(3)
    assert not other_ids & set(per_trigger)
    assert len({d["decision_id"] for d in decisions}) == len(decisions)
    for d in decisions:  # provenance is complete on every record
        record = DecisionRecord.model_validate(d)
        assert record.pins.run_id == hot_run.run_id
        assert record.posture is Posture.NORMAL and record.bundle is not None
        assert record.snapshot.graph_version is not None and record.intents
        # WSP's progress promises hold and IG writes each watermark after the data it covers,
        # so the fold never meets a late trigger, even at full speed and across the kill -9.
        assert record.snapshot.complete, record.trigger
        assert "LATE_TRIGGER" not in record.reason_codes


def test_replay_in_a_fresh_group_reproduces_byte_identical_decisions(hot_run: HotRun) -> None:
    emitted = decision_stream(r.value for r in hot_run.read(Topic.RTDL))
    replayed = asyncio.run(replay_profile(hot_run.profile, group_id="replay-check",
                                          posture=Posture.NORMAL))
    assert len(replayed.decisions) == len(emitted)
    assert stream_digest(replayed.decisions) == stream_digest(emitted)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_no_truth_column_in_any_decision_or_snapshot(hot_run: HotRun) -> None:
    interface = yaml.safe_load((Path("world_engine/interface/interface_pack.v1.yaml")).read_text())
    truth = {c["name"] for o in interface["outputs"] if o["role"] == "truth"
             for c in o["columns"]} - {"flow_id", "ts_utc"}
    assert truth == TRUTH_COLUMNS
    records = [orjson.loads(r.value) for r in hot_run.read(Topic.RTDL)]
    assert records
    for record in records:
        names = {k.rsplit(".", 1)[-1] for k in _keys(record)}
        assert not names & truth, names & truth


def test_graph_and_feature_queries_answer_for_a_decided_card(hot_run: HotRun) -> None:
    decision = _decisions(hot_run)[-1]
    subject = decision["intents"][0]["subject"]
    status, body = hot_run.worker.get(
        f"/v1/graph/card/{subject['card_id']}?run_id={hot_run.run_id}")
    assert status == 200, body
    assert any(n["kind"] == "merchant" for n in body["neighbours"])
    status, body = hot_run.worker.get("/v1/graph/card/x?run_id=nothex")
    assert status == 400


def test_an_activation_becomes_a_governance_fact_and_the_active_bundle(hot_run: HotRun) -> None:
    """Last in the module: it changes the ACTIVE bundle (the replay test above pins the first)."""
    from app.objectstore.config import open_object_store
    from app.registry.resolver import load_bootstrap
    from app.registry.store import RegistryStore

    boot = load_bootstrap()  # the next version: a new bundle whatever the packaged one is
    bundle = boot.model_copy(update={"version": boot.version + 1, "description": "test next"})

    async def activate() -> str:
        async with open_object_store(hot_run.profile.wiring.object_store) as store:
            registry = RegistryStore(store)
            ref = await registry.put_bundle(bundle)
            await registry.activate("auth", ref.digest.hex, at_utc="2026-11-24T00:00:00.000000Z",
                                    reason="integration test")
            return ref.digest.hex

    digest = asyncio.run(activate())

    def facts() -> tuple[bool, list[dict[str, Any]]]:
        found = [body for r in hot_run.read(Topic.AUDIT)
                 if (body := orjson.loads(r.value or b"")).get("record_type") == "governance_fact"
                 and body["fact_type"] == "BUNDLE_ACTIVATED"]
        return bool(found), found

    found = wait_for(facts, 60, "a BUNDLE_ACTIVATED governance fact on the audit topic")
    assert found[0]["to_value"] == digest

"""Issue #11 item 1 on the real broker: an implausible ``ts_utc`` is quarantined, and the later
authorisations of its partition are decided exactly as in a run without it.

Before the fix an ``auth_request`` stamped 9999-12-31T23:59:59.999999Z was ADMITTED (IG checked
only the format); its traffic partition's feature clock jumped to year 9999, every card's history
was evicted and every later authorisation there was STEP_UP ``SNAPSHOT_INCOMPLETE``, for good.

One worker (WSP, IG, hot path; posture pinned NORMAL) streams the same tiny world twice, as two
SR runs (run labels ``attacked`` and ``clean``). Right after the attacked run is READY, one
``auth_request`` of a real card at 9999-12-31 and one at 0001-01-01 are queued on IG's ingress
topic exactly as WSP queues rows (keyed by the partition key), so they land among the first
records of their partition. Both get a QUARANTINE receipt ``EVENT_TIME_IMPLAUSIBLE`` naming
``ts_utc``, and every trigger of the attacked run is decided like the same trigger of the clean
run (engine event ids do not depend on the run): outcome, reason codes, snapshot values.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.ig.event_time import event_time_window
from app.objectstore.config import open_object_store
from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.profiles.loader import Profile, load_profile
from app.rails.control import ObjectLocator
from app.rails.envelope import CanonicalEnvelope, dump_envelope
from app.rails.ids import make_id
from app.rails.partition_key import derive_partition_key, kafka_partition, partition_key_bytes
from app.rails.reason_codes import ReasonCode
from app.rails.run_facts import RunFactsView
from app.sr.ledger import RunLedger
from app.sr.run_request import RunRequest
from app.wsp.framing import frame
from app.wsp.merge import plan_rows
from app.wsp.stream_plan import plan_for
from tests.fixtures.broker import Cluster
from tests.integration.bus_io import produce
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FAR_FUTURE = "9999-12-31T23:59:59.999999Z"
FAR_PAST = "0001-01-01T00:00:00.000000Z"


def _start_run(profile: Profile, world: Path, label: str) -> str:
    from app.cli.sr_cmd import sr_run

    outcome = asyncio.run(sr_run(profile, RunRequest(world_locator=str(world),
                                                     scenario_id="baseline", run_label=label)))
    assert outcome.status == "READY", outcome
    return outcome.run_id


def _view(profile: Profile, run_id: str) -> RunFactsView:
    async def read() -> RunFactsView:
        async with open_object_store(profile.wiring.object_store,
                                     base_dir=profile.base_dir) as store:
            records = await RunLedger(store, run_id).records()
            facts = next(r for r in records if r.get("event") == "facts_written")
            locator = ObjectLocator.model_validate(facts["run_facts"])
            return RunFactsView.model_validate_json(
                await store.get(locator.object_key, expected=locator.digest))
    return asyncio.run(read())


def _first_auths(view: RunFactsView, world: Path, n: int) -> list[CanonicalEnvelope]:
    """The run's first ``n`` auth_request envelopes, framed as WSP frames them."""
    plan = plan_for(view)

    async def read() -> list[CanonicalEnvelope]:
        out: list[CanonicalEnvelope] = []
        async with open_pack(parse_locator(str(world))) as reader:
            async for row in plan_rows(reader, plan):
                if row.output_id == "auth_request":
                    out.append(frame(row, plan.output(row.output_id), plan, now_micros=lambda: 0))
                    if len(out) == n:
                        break
        return out
    return asyncio.run(read())


def _implausible(template: CanonicalEnvelope, ts_utc: str) -> CanonicalEnvelope:
    """The template's authorisation (a real card) at ``ts_utc``, as a new event."""
    return template.model_copy(update={"ts_utc": ts_utc, "event_id": make_id(
        "implausible_event", template.event_id, ts_utc)})


def _decisions(bootstrap: str, profile: Profile) -> dict[str, dict[str, dict[str, Any]]]:
    """run_id -> trigger event_id -> decision record."""
    worker = profile.wiring.worker
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for record in asyncio.run(read_topic(bootstrap, topic_name(Topic.RTDL, worker.topic_prefix),
                                         worker.partitions)):
        body = orjson.loads(record.value or b"{}")
        if body.get("record_type") == "decision":
            out.setdefault(body["pins"]["run_id"], {})[body["trigger"]["event_id"]] = body
    return out


def _receipts(bootstrap: str, profile: Profile, event_ids: set[str]) -> list[dict[str, Any]]:
    worker = profile.wiring.worker
    bodies = [orjson.loads(r.value or b"{}") for r in asyncio.run(read_topic(
        bootstrap, topic_name(Topic.AUDIT, worker.topic_prefix), worker.partitions))]
    return [b for b in bodies if "receipt_id" in b and b.get("event_id") in event_ids]


def _seen(decision: dict[str, Any]) -> tuple[Any, ...]:
    snapshot = decision["snapshot"]
    return (decision["outcome"], decision["reason_codes"], snapshot["complete"],
            snapshot["values"])


@pytest.fixture
def cluster(tmp_path: Path, embedded_broker: BrokerState,
            broker_state_dir: Path) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"}},
                      wiring_patch={"worker": {"agents": ["wsp", "ig", "hotpath"]}})
    try:
        yield cluster
    finally:
        cluster.stop_all()


def test_implausible_event_time_is_quarantined_and_changes_no_later_decision(
        cluster: Cluster, tiny_world: Path, embedded_broker: BrokerState) -> None:
    worker = cluster.spawn("w1")
    worker.wait_ready()
    profile = load_profile(worker.profile)
    bootstrap = embedded_broker.bootstrap
    world = cluster.root / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
    shutil.copytree(tiny_world, world)

    attacked = _start_run(profile, world, "attacked")
    view = _view(profile, attacked)
    template = _first_auths(view, world, 1)[0]
    bad = [_implausible(template, FAR_FUTURE), _implausible(template, FAR_PAST)]
    precedence = profile.policy.ingest.partition_key_precedence
    key = partition_key_bytes(derive_partition_key(template, precedence))
    ingress = topic_name(Topic.INGRESS, profile.wiring.worker.topic_prefix)
    asyncio.run(produce(bootstrap, ingress, [(key, dump_envelope(e)) for e in bad]))
    clean = _start_run(profile, world, "clean")

    auths = next(o.row_count for o in view.outputs if o.output_id == "auth_request")
    decided = wait_for(lambda: (all(len((d := _decisions(bootstrap, profile)).get(r, {}))
                                    >= auths for r in (attacked, clean)), d),
                       200, "every authorisation of both runs to be decided", interval_s=2.0)
    bad_ids = {e.event_id for e in bad}
    receipts = wait_for(lambda: (len(r := _receipts(bootstrap, profile, bad_ids)) >= 2, r),
                        60, "the receipts of both implausible events")

    assert {r["event_id"] for r in receipts} == bad_ids
    window = event_time_window(view, skew_s=profile.policy.ingest.event_time_skew_s)
    assert window is not None
    for receipt in receipts:
        assert receipt["decision"] == "QUARANTINE", receipt
        assert receipt["reason_codes"] == [ReasonCode.EVENT_TIME_IMPLAUSIBLE.value]
        assert receipt["field_paths"] == ["ts_utc"] and window.describe() in receipt["detail"]
    assert not bad_ids & set(decided[attacked])  # quarantined: never on the bus, never decided

    # Every trigger decided alike in both runs; those of the bad events' own partition that
    # came after them are the ones the old clock wrecked.
    assert set(decided[attacked]) == set(decided[clean]) and len(decided[clean]) == auths
    diff = [e for e in decided[clean] if _seen(decided[attacked][e]) != _seen(decided[clean][e])]
    assert not diff, f"{len(diff)} triggers decided differently, e.g. {diff[:3]}"
    partition = kafka_partition(key, profile.wiring.worker.partitions)
    same_partition = [d for d in decided[attacked].values()
                      if d["trigger"]["eb_ref"]["partition"] == partition]
    assert len(same_partition) > auths // 8
    assert not any(ReasonCode.SNAPSHOT_INCOMPLETE.value in d["reason_codes"]
                   for d in same_partition)

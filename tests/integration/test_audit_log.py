"""DLA on the real broker: a tiny world through the hot path and AL, audited across a kill -9.

Issue #6. One module-scoped run: every agent in one worker (WSP, IG, hot path, AL, DLA), the
simulated switch misbehaving a little so retries and FAILED outcomes reach the bus, the worker
``kill -9``-ed once DLA has written segments and a quarter of the authorisations are decided,
then restarted. The tests judge DLA from outside: the rtdl topic read back, the segment objects
in the store, ``fp audit show`` and the worker's ``/v1/audit`` API.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.cli.main import main
from app.cli.sr_cmd import sr_run
from app.dla.lookup import read_audit_anomalies, read_audit_records
from app.dla.segments import SEGMENTS_PREFIX, decode_segment
from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.audit import AuditRecord
from app.sr.run_request import RunRequest
from tests.fixtures.broker import Cluster
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

POLICY = {"degrade": {"pinned": "NORMAL"},
          "action": {"retry": {"max_attempts": 3, "backoff_initial_ms": 5,
                               "backoff_max_ms": 50, "attempt_timeout_ms": 300}}}
SWITCH_FAULTS = {"transient_error_rate": 0.05, "reject_rate": 0.02}


@dataclass
class AuditRun:
    profile: Profile
    profile_path: str
    bootstrap: str
    run_id: str
    worker: Any
    at_crash: dict[str, bytes]  # every segment object when the worker was killed

    def rtdl(self) -> list[tuple[Any, dict[str, Any]]]:
        name = topic_name(Topic.RTDL, self.profile.wiring.worker.topic_prefix)
        records = asyncio.run(read_topic(self.bootstrap, name,
                                         self.profile.wiring.worker.partitions))
        return [(r, orjson.loads(r.value)) for r in records]

    def objects(self, prefix: str = SEGMENTS_PREFIX) -> dict[str, bytes]:
        async def read() -> dict[str, bytes]:
            async with open_object_store(self.profile.wiring.object_store,
                                         base_dir=self.profile.base_dir) as store:
                return {k: await store.get(k) for k in await store.list(prefix)}
        return asyncio.run(read())

    def audit_records(self) -> list[AuditRecord]:
        async def read() -> list[AuditRecord]:
            async with open_object_store(self.profile.wiring.object_store,
                                         base_dir=self.profile.base_dir) as store:
                return await read_audit_records(store)
        return asyncio.run(read())


def _current(records: list[AuditRecord]) -> dict[str, list[AuditRecord]]:
    """decision id -> its records that no other record supersedes."""
    superseded = {r.supersedes for r in records if r.supersedes}
    out: dict[str, list[AuditRecord]] = defaultdict(list)
    for record in records:
        if record.audit_id not in superseded:
            out[record.decision_id].append(record)
    return out


def _progress(run: AuditRun, auths: int) -> tuple[bool, str]:
    bodies = [b for _r, b in run.rtdl()]
    decisions = {b["decision_id"] for b in bodies if b.get("record_type") == "decision"}
    intents = sum(len(b["intents"]) for b in bodies if b.get("record_type") == "decision")
    outcomes = len({b["outcome_id"] for b in bodies if b.get("record_type") == "action_outcome"})
    audited = set(_current(run.audit_records()))
    seen = f"{len(decisions)}/{auths} decided, {outcomes}/{intents} outcomes, {len(audited)} " \
           "audited"
    return len(decisions) >= auths and outcomes >= intents and decisions <= audited, seen


@pytest.fixture(scope="module")
def audit_run(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
              embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[AuditRun]:
    root = tmp_path_factory.mktemp("audit-log")
    cluster = Cluster(root, broker_state_dir, policy_patch=POLICY,
                      wiring_patch={"executor": SWITCH_FAULTS})
    try:
        worker = cluster.spawn("w1")
        worker.wait_ready()
        profile = load_profile(worker.profile)
        world = root / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
        shutil.copytree(tiny_world, world)
        manifest = orjson.loads((world / "manifest.json").read_bytes())
        auths = next(o["row_count"] for o in manifest["outputs"]
                     if o["output_id"] == "auth_request")
        outcome = asyncio.run(sr_run(profile, RunRequest(world_locator=str(world),
                                                         scenario_id="baseline")))
        assert outcome.status == "READY"
        run = AuditRun(profile, str(worker.profile), embedded_broker.bootstrap, outcome.run_id,
                       worker, {})

        def audited_a_quarter() -> tuple[bool, int]:
            n = len(_current(run.audit_records()))
            return n >= auths // 4, n

        wait_for(audited_a_quarter, 300, "a quarter of the authorisations to be audited")
        worker.kill9()
        run.at_crash = run.objects()
        assert not _progress(run, auths)[0], "the stream ended before the crash: not mid-stream"
        worker.start().wait_ready()
        wait_for(lambda: _progress(run, auths), 500, "every decision to be audited",
                 interval_s=2.0)
        yield run
    finally:
        cluster.stop_all()


def test_every_decision_has_exactly_one_current_audit_record_matching_the_topic(
        audit_run: AuditRun) -> None:
    rtdl = audit_run.rtdl()
    decisions = {b["decision_id"]: (r, b) for r, b in rtdl if b.get("record_type") == "decision"}
    first_outcome: dict[str, tuple[Any, dict[str, Any]]] = {}
    for record, body in rtdl:
        if body.get("record_type") == "action_outcome":
            first_outcome.setdefault(body["outcome_id"], (record, body))
    current = _current(audit_run.audit_records())
    assert set(current) == set(decisions)
    for did, (record, decision) in decisions.items():
        [audit] = current[did]
        ref = audit.decision.decision_ref
        assert (ref.partition, ref.offset) == (record.partition, record.offset)
        assert [i.action_id for i in audit.intents] == [i["action_id"]
                                                         for i in decision["intents"]]
        for intent in audit.intents:
            on_topic, outcome = first_outcome[intent.outcome_id]
            assert intent.status == outcome["status"]
            assert intent.attempts == len(outcome["attempts"])
            assert intent.outcome_ref.partition == on_topic.partition == record.partition
            assert intent.outcome_ref.offset == on_topic.offset


def test_nothing_anomalous_and_every_status_audited(audit_run: AuditRun) -> None:
    records = audit_run.audit_records()
    statuses = Counter(i.status.value for r in records for i in r.intents)
    assert statuses["EXECUTED"] > 0 and statuses["FAILED"] > 0  # the switch's rejections
    assert len({r.audit_id for r in records}) == len(records)

    async def anomalies() -> list[Any]:
        async with open_object_store(audit_run.profile.wiring.object_store,
                                     base_dir=audit_run.profile.base_dir) as store:
            return await read_audit_anomalies(store)
    assert asyncio.run(anomalies()) == []


def test_kill_9_rewrote_no_segment_and_the_log_continues_without_overlap(
        audit_run: AuditRun) -> None:
    after = audit_run.objects()
    assert audit_run.at_crash, "no segment was written before the crash"
    assert {k: after[k] for k in audit_run.at_crash} == audit_run.at_crash
    by_partition: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for key, data in after.items():
        header = decode_segment(key, data).header
        by_partition[header.partition].append((header.first_offset, header.next_offset))
    for partition, spans in by_partition.items():
        spans.sort()
        assert spans[0][0] == 0, partition
        for (_, end), (start, _) in pairwise(spans):
            assert start == end, f"partition {partition}: segments {spans} overlap or gap"
    assert len(audit_run.objects("dla/index")) == len(after)  # one index per segment


def test_fp_audit_show_and_the_api_print_a_decisions_chain(
        audit_run: AuditRun, capsys: pytest.CaptureFixture[str]) -> None:
    record = audit_run.audit_records()[-1]
    assert main(["--profile", audit_run.profile_path, "audit", "show", record.decision_id,
                 "--full"]) == 0
    out = capsys.readouterr().out
    assert f"decision   {record.decision_id}" in out
    assert record.decision.snapshot_hash in out and "features " in out  # read from the bus
    for intent in record.intents:
        assert intent.action_id in out
    status, body = audit_run.worker.get(
        f"/v1/audit/event/{record.decision.trigger_event_id}")
    assert status == 200 and body["records"][0]["decision_id"] == record.decision_id
    assert audit_run.worker.get("/v1/audit/action/" + "0" * 64)[0] == 404
    assert audit_run.worker.get("/v1/audit/decision/not-an-id")[0] == 400

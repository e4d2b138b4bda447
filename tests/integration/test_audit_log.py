"""DLA on the real broker: a tiny world through the hot path and AL, audited across a kill -9.

Issue #6. The run is the suite's shared pipeline run (``tests/fixtures/pipeline.py``): every
agent in one worker, the simulated switch misbehaving so retries and FAILED outcomes reach the
bus, the worker ``kill -9``-ed mid-stream and restarted. The tests judge DLA from outside: the
rtdl topic read back, the segment objects in the store (as they were at the crash and after),
``fp audit show`` and the worker's ``/v1/audit`` API.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from itertools import pairwise
from typing import Any

import orjson
import pytest

from app.cli.main import main
from app.dla.lookup import read_audit_anomalies, read_audit_records
from app.dla.segments import SEGMENTS_PREFIX, decode_segment
from app.eb.topics import Topic
from app.objectstore.config import open_object_store
from app.rails.audit import AuditRecord
from tests.fixtures.pipeline import PipelineRun

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

def _rtdl(run: PipelineRun) -> list[tuple[Any, dict[str, Any]]]:
    return [(r, orjson.loads(r.value)) for r in run.read(Topic.RTDL)]


def _audit_records(run: PipelineRun) -> list[AuditRecord]:
    async def read() -> list[AuditRecord]:
        async with open_object_store(run.profile.wiring.object_store,
                                     base_dir=run.profile.base_dir) as store:
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


def test_every_decision_has_exactly_one_current_audit_record_matching_the_topic(
        pipeline_run: PipelineRun) -> None:
    rtdl = _rtdl(pipeline_run)
    decisions = {b["decision_id"]: (r, b) for r, b in rtdl if b.get("record_type") == "decision"}
    first_outcome: dict[str, tuple[Any, dict[str, Any]]] = {}
    for record, body in rtdl:
        if body.get("record_type") == "action_outcome":
            first_outcome.setdefault(body["outcome_id"], (record, body))
    current = _current(_audit_records(pipeline_run))
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


def test_nothing_anomalous_and_every_status_audited(pipeline_run: PipelineRun) -> None:
    records = _audit_records(pipeline_run)
    statuses = Counter(i.status.value for r in records for i in r.intents)
    assert statuses["EXECUTED"] > 0 and statuses["FAILED"] > 0  # the switch's rejections
    assert len({r.audit_id for r in records}) == len(records)

    async def anomalies() -> list[Any]:
        async with open_object_store(pipeline_run.profile.wiring.object_store,
                                     base_dir=pipeline_run.profile.base_dir) as store:
            return await read_audit_anomalies(store)
    assert asyncio.run(anomalies()) == []


def test_kill_9_rewrote_no_segment_and_the_log_continues_without_overlap(
        pipeline_run: PipelineRun) -> None:
    after = pipeline_run.objects(SEGMENTS_PREFIX)
    assert pipeline_run.at_crash, "no segment was written before the crash"
    assert {k: after[k] for k in pipeline_run.at_crash} == pipeline_run.at_crash
    by_partition: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for key, data in after.items():
        header = decode_segment(key, data).header
        by_partition[header.partition].append((header.first_offset, header.next_offset))
    for partition, spans in by_partition.items():
        spans.sort()
        assert spans[0][0] == 0, partition
        for (_, end), (start, _) in pairwise(spans):
            assert start == end, f"partition {partition}: segments {spans} overlap or gap"
    assert len(pipeline_run.objects("dla/index")) == len(after)  # one index per segment


def test_fp_audit_show_and_the_api_print_a_decisions_chain(
        pipeline_run: PipelineRun, capsys: pytest.CaptureFixture[str]) -> None:
    record = _audit_records(pipeline_run)[-1]
    assert main(["--profile", pipeline_run.worker.profile, "audit", "show", record.decision_id,
                 "--full"]) == 0
    out = capsys.readouterr().out
    assert f"decision   {record.decision_id}" in out
    assert record.decision.snapshot_hash in out and "features " in out  # read from the bus
    for intent in record.intents:
        assert intent.action_id in out
    status, body = pipeline_run.worker.get(
        f"/v1/audit/event/{record.decision.trigger_event_id}")
    assert status == 200 and body["records"][0]["decision_id"] == record.decision_id
    assert pipeline_run.worker.get("/v1/audit/action/" + "0" * 64)[0] == 404
    assert pipeline_run.worker.get("/v1/audit/decision/not-an-id")[0] == 400

"""The main job (``fp run start``) on the real broker: a tiny world end to end, then the report.

Issue #6. ``start_run`` brings up its own worker (every agent: WSP, IG, hot path, AL, DLA) on an
isolated profile, runs SR on the tiny world, waits until the run drained (judged from receipts,
rtdl and audit records), evaluates against truth and writes the report. The tests then read the
topics back and hold the summary's counts equal to what the bus holds.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.profiles.loader import Profile, load_profile
from app.rails.watermark import is_watermark_value
from app.runtime.run_driver import MainJobResult, start_run
from tests.fixtures.broker import Cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


@dataclass
class MainJob:
    profile: Profile
    bootstrap: str
    result: MainJobResult

    def read(self, topic: Topic) -> list[dict[str, Any]]:
        name = topic_name(topic, self.profile.wiring.worker.topic_prefix)
        records = asyncio.run(read_topic(self.bootstrap, name,
                                         self.profile.wiring.worker.partitions))
        return [orjson.loads(r.value or b"{}") for r in records]

    def rtdl(self, record_type: str) -> list[dict[str, Any]]:
        return [r for r in self.read(Topic.RTDL) if r.get("record_type") == record_type
                and r.get("pins", {}).get("run_id") == self.result.run_id]


@pytest.fixture(scope="module")
def main_job(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
             embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[MainJob]:
    root = tmp_path_factory.mktemp("main-job")
    cluster = Cluster(root, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"}})
    path = cluster.profile("w1")
    profile = load_profile(str(path))
    world = root / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
    shutil.copytree(tiny_world, world)
    result = start_run(profile, str(path), str(world), "baseline", log_dir=root / "logs",
                       run_label="main-job", stall_s=60, reports_dir=root / "reports")
    yield MainJob(profile, embedded_broker.bootstrap, result)


def test_the_run_drains_with_every_step_complete(main_job: MainJob) -> None:
    result = main_job.result
    assert result.status == "READY" and result.summary is not None
    assert result.summary.missing == (), result.summary.missing
    assert result.ok


def test_summary_counts_equal_what_the_topics_hold(main_job: MainJob) -> None:
    s = main_job.result.summary
    assert s is not None
    traffic = [e for e in main_job.read(Topic.TRAFFIC) if e.get("run_id") == s.run_id
               and not is_watermark_value(e)]  # IG's watermark records are not events (#12)
    labels = [e for e in main_job.read(Topic.LABELS) if e.get("run_id") == s.run_id]
    admitted = Counter(e["event_type"] for e in traffic + labels)
    assert s.admitted_by_type == dict(sorted(admitted.items()))
    assert s.receipts["ADMIT"] == len(traffic) + len(labels) == s.planned_rows
    decisions = {d["decision_id"]: d for d in main_job.rtdl("decision")}
    assert s.decisions == len(decisions) == admitted["auth_request"]
    assert s.decisions_by_outcome == {
        o: sum(1 for d in decisions.values() if d["outcome"] == o)
        for o in ("APPROVE", "STEP_UP", "REVIEW", "DECLINE")}
    assert s.evaluation.decisions == s.decisions and s.evaluation.unmatched == 0
    outcomes = {o["outcome_id"]: o for o in main_job.rtdl("action_outcome")}
    ended = Counter((o["action_type"], o["status"]) for o in outcomes.values())
    for row in s.actions:
        assert (row.executed, row.denied, row.failed) == (
            ended[row.action_type, "EXECUTED"], ended[row.action_type, "DENIED"],
            ended[row.action_type, "FAILED"])
    assert s.intents == sum(len(d["intents"]) for d in decisions.values()) == s.outcomes
    assert s.audit is not None and s.audit.complete == s.decisions


def test_label_health_counts_the_runs_label_events_and_cases(main_job: MainJob) -> None:
    s = main_job.result.summary
    assert s is not None and s.labels is not None
    labels = [e for e in main_job.read(Topic.LABELS) if e.get("run_id") == s.run_id]
    assert labels, "the tiny world streamed no label events: nothing to judge"
    assert s.labels.label_events == len(labels)
    review = sum(1 for d in main_job.rtdl("decision")
                 for i in d["intents"] if i["action_type"] == "OPEN_CASE")
    by_labels = s.labels.cases_from_labels  # disputes and chargebacks on approved flows
    assert s.labels.cases_opened == review + by_labels
    assert s.labels.cases_by_state == ((("OPEN", review + by_labels),) if review + by_labels
                                       else ())
    assert s.labels.time_to_label_h_p50 is not None and s.labels.time_to_label_h_p50 > 0


def test_latency_and_throughput_come_from_the_run(main_job: MainJob) -> None:
    s = main_job.result.summary
    assert s is not None and s.decision_latency is not None and s.outcome_latency is not None
    assert s.decision_latency.count == s.decisions and s.decision_latency_unknown == 0
    assert 0 <= s.decision_latency.p50_ms <= s.decision_latency.p99_ms
    assert s.outcome_latency.count == s.outcomes
    assert s.throughput_per_s is not None and s.throughput_per_s > 0


def test_the_report_is_written_with_its_charts(main_job: MainJob) -> None:
    report = main_job.result.report
    assert report is not None and report.folder.name == main_job.result.run_id
    markdown = report.markdown.read_text()
    assert main_job.result.run_id in markdown and report.html.is_file()
    assert f"{main_job.result.summary.decisions:,}" in markdown  # type: ignore[union-attr]
    for png in report.charts:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

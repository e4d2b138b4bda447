"""Any transaction table, end to end (issue #15 item 1) on the embedded broker.

A tiny generated CSV (300 card transactions over 23 cards, two features, a fraud column and a
chargeback label feed) is imported with ``fp world import``'s engine-side importer and run by the
main job (``fp run start``): IG admits every row against the contract generated from the world's
declared schema, the hot path decides every transaction (``card_transaction`` is in
``policy.decision.triggers``) with the declared features as ``txn.<name>``, the chargebacks reach
the Label Store as labels of their ``txn_`` flows, and the evaluation finds the world's truth by
its role. A table whose rows all fail IG ends ``fp run start`` with a non-zero exit naming the
reason codes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.cli.main import main
from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.labels.reader import read_label_store
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.watermark import is_watermark_value
from app.runtime.run_driver import MainJobResult, start_run
from tests.fixtures.broker import Cluster
from tests.fixtures.imports import FEATURES, import_tiny_world

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

ROWS = 300


@dataclass
class ImportedRun:
    profile: Profile
    bootstrap: str
    result: MainJobResult

    def read(self, topic: Topic) -> list[dict[str, Any]]:
        name = topic_name(topic, self.profile.wiring.worker.topic_prefix)
        records = asyncio.run(read_topic(self.bootstrap, name,
                                         self.profile.wiring.worker.partitions))
        return [orjson.loads(r.value or b"{}") for r in records]


@pytest.fixture(scope="module")
def imported_run(tmp_path_factory: pytest.TempPathFactory, embedded_broker: BrokerState,
                 broker_state_dir: Path) -> Iterator[ImportedRun]:
    root = tmp_path_factory.mktemp("imported-world")
    cluster = Cluster(root, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"}})
    path = cluster.profile("w1")
    profile = load_profile(str(path))
    world = import_tiny_world(root, ROWS, oracle_root=root / "oracle")
    result = start_run(profile, str(path), world, "baseline", log_dir=root / "logs",
                       run_label="imported", stall_s=60, reports_dir=root / "reports")
    yield ImportedRun(profile, embedded_broker.bootstrap, result)


def test_every_row_is_admitted_and_every_transaction_decided(imported_run: ImportedRun) -> None:
    result = imported_run.result
    assert result.failure is None and result.ok, (result.failure, result.summary)
    summary = result.summary
    assert summary is not None and summary.missing == ()
    labels = summary.admitted_by_type["card_transaction_label"]
    assert summary.admitted_by_type == {"card_transaction": ROWS,
                                        "card_transaction_label": labels}
    assert labels == ROWS // 29  # every 29th row is fraud, and the feed covers every fraud
    assert summary.receipts == {"ADMIT": ROWS + labels, "DUPLICATE": 0, "QUARANTINE": 0}
    assert summary.decisions == ROWS


def test_decisions_carry_the_declared_features_and_the_txn_flow(
        imported_run: ImportedRun) -> None:
    run_id = imported_run.result.run_id
    traffic = {e["event_id"]: e for e in imported_run.read(Topic.TRAFFIC)
               if e.get("run_id") == run_id and not is_watermark_value(e)}
    decisions = [d for d in imported_run.read(Topic.RTDL)
                 if d.get("record_type") == "decision" and d["pins"]["run_id"] == run_id]
    assert len(decisions) == len(traffic) == ROWS
    assert {d["trigger"]["event_id"] for d in decisions} == set(traffic)
    for decision in decisions:
        payload = traffic[decision["trigger"]["event_id"]]["payload"]
        values = decision["snapshot"]["values"]
        assert {f"txn.{name}": values[f"txn.{name}"] for name in FEATURES} == {
            f"txn.{name}": payload[name] for name in FEATURES}
        assert decision["intents"][0]["subject"]["flow_id"] == payload["txn_id"]
    assert max(d["snapshot"]["values"]["card.count_24h"] for d in decisions) > 0


def test_the_chargebacks_are_labels_of_their_txn_flows(imported_run: ImportedRun) -> None:
    async def read() -> set[str]:
        async with open_object_store(imported_run.profile.wiring.object_store,
                                     base_dir=imported_run.profile.base_dir) as store:
            view = await read_label_store(store)
        assert view.anomalies == [] and view.collisions == []
        return {flow for run, flow in view.timelines.subjects()
                if run == imported_run.result.run_id}

    flows = asyncio.run(read())
    assert flows == {f"txn_{row:012d}" for row in range(28, ROWS, 29)}


def test_the_evaluation_reads_the_imported_truth(imported_run: ImportedRun) -> None:
    summary = imported_run.result.summary
    assert summary is not None
    assert summary.evaluation.truth_flows == ROWS


def test_a_table_whose_rows_all_fail_ig_exits_non_zero_naming_the_reason(
        tmp_path: Path, embedded_broker: BrokerState, broker_state_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An import that calls its traffic ``auth_request`` meets the generated world's
    hand-written contract there: every row is quarantined, nothing is admitted."""
    cluster = Cluster(tmp_path, broker_state_dir, policy_patch={"degrade": {"pinned": "NORMAL"}})
    path = cluster.profile("w1")
    world = import_tiny_world(tmp_path, 40, oracle_root=tmp_path / "oracle", label_feed=None,
                              output={"event_type": "auth_request", "schema_version": "v1"})
    code = main(["--profile", str(path), "run", "start", "--world", world, "--label", "bad",
                 "--stall-s", "30", "--reports-dir", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 1
    assert ("fp: error [NOTHING_ADMITTED]: " in err
            and "0 of 40 admitted; QUARANTINE PAYLOAD_SCHEMA_INVALID 40" in err), err

"""A flood of bad input costs receipts, not unbounded storage (issue #11 item 10).

IG keeps quarantined raw bytes within ``policy.ingest.quarantine_quota_bytes`` per ingress
partition and window of ingress offsets; past it every bad line still gets its QUARANTINE
receipt, marked ``retained: NONE`` with ``QUARANTINE_QUOTA_EXCEEDED``, and good lines are
admitted as ever.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.eb.embedded_broker import BrokerState
from app.ig.quarantine_store import QUARANTINE_PREFIX
from app.objectstore.config import open_object_store
from tests.integration.http_raw import API_KEY, Gate, post, start_gate

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

QUOTA_BYTES = 3_000
BAD_LINE_BYTES = 500


@pytest.fixture(scope="module")
def gate(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
         embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[Gate]:
    os.environ["FP_INGEST_API_KEY"] = API_KEY
    cluster, state = start_gate(
        tiny_world, tmp_path_factory.mktemp("quarantine-quota"), broker_state_dir,
        policy_patch={"ingest": {"quarantine_quota_bytes": QUOTA_BYTES,
                                 "quarantine_quota_window_records": 1_000_000}})
    yield state
    cluster.stop_all()
    os.environ.pop("FP_INGEST_API_KEY", None)


def _stored_bytes(gate: Gate) -> int:
    async def total() -> int:
        async with open_object_store(gate.profile.wiring.object_store) as store:
            return sum([len(await store.get(k)) for k in await store.list(QUARANTINE_PREFIX)])

    return asyncio.run(total())


def test_issue_11_item_10_quarantine_storage_stops_at_the_quota_and_receipts_go_on(
        gate: Gate) -> None:
    # Distinct garbage lines, all with the same ingress key (not JSON: keyed by their digest,
    # so spread over partitions); enough that every partition's quota is spent.
    bad = [(b"not json %04d " % i).ljust(BAD_LINE_BYTES, b"x") for i in range(120)]
    good = [gate.line(50_000 + i) for i in range(5)]
    receipts = gate.receipts(post(gate.port, b"\n".join(bad + good), API_KEY))
    assert len(receipts) == len(bad) + len(good)
    assert [r.decision.value for r in receipts[len(bad):]] == ["ADMIT"] * len(good)
    quarantined = receipts[:len(bad)]
    assert {r.decision.value for r in quarantined} == {"QUARANTINE"}
    kept = [r for r in quarantined if r.quarantine_ref and r.quarantine_ref.retained.value
            == "FULL"]
    dropped = [r for r in quarantined if r.quarantine_ref and r.quarantine_ref.retained.value
               == "NONE"]
    assert len(kept) + len(dropped) == len(bad) and dropped
    assert all(r.reason_codes[-1].value == "QUARANTINE_QUOTA_EXCEEDED" for r in dropped)
    assert all("QUARANTINE_QUOTA_EXCEEDED" not in {c.value for c in r.reason_codes}
               for r in kept)
    partitions = gate.profile.wiring.worker.partitions
    per_partition = QUOTA_BYTES // BAD_LINE_BYTES
    assert len(kept) <= partitions * per_partition
    assert _stored_bytes(gate) <= partitions * QUOTA_BYTES

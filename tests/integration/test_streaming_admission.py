"""READY → WSP → IG → bus on the real broker: exact counts, duplicates only on re-stream,
the bad-input corpus quarantined through the topic and HTTP, and replay by offsets (issue #4).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import re
import shutil
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.agents.ig import POKE_KEY
from app.cli.sr_cmd import sr_run
from app.eb.embedded_broker import BrokerState
from app.eb.replay import committed_offsets, reset_group_offsets
from app.eb.topics import Topic, topic_name
from app.ig.http_ingest import API_KEY_HEADER, ingress_key
from app.ig.receipt_log import read_receipts
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.receipts import IngestionReceipt
from app.runtime.supervisor import WorkerProcess
from app.sr.run_request import RunRequest
from tests.corpus.ig.loader import CorpusCase, good_envelopes, load_cases
from tests.fixtures.broker import Cluster
from tests.integration.bus_io import is_event, produce, read_all
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

API_KEY = "test-ingest-key-" + "0" * 8
TRUTH_COLUMNS = {"label", "subtype", "campaign_id", "is_fraud_or_abuse", "issuer_approved"}


@dataclass
class Streamed:
    cluster: Cluster
    worker: WorkerProcess
    profile: Profile
    bootstrap: str
    run_id: str
    pins: dict[str, Any]
    row_counts: dict[str, int]  # streamed outputs only
    first_day: dt.date  # the world's first utc_day: the corpus is moved into the run's window

    def topic(self, topic: Topic) -> str:
        return topic_name(topic, self.profile.wiring.worker.topic_prefix)

    def read(self, topic: Topic) -> list[tuple[int, int, bytes | None, bytes | None]]:
        parts = asyncio.run(read_all(self.bootstrap, self.topic(topic),
                                     self.profile.wiring.worker.partitions))
        return [(p, o, k, v) for p, records in parts.items() for o, k, v in records]

    def events(self, topic: Topic) -> list[tuple[int, int, bytes | None, bytes | None]]:
        """The admitted events of ``topic``: IG's watermark records (#12) left out."""
        return [r for r in self.read(topic) if is_event(r[3])]

    def receipts(self) -> list[IngestionReceipt]:
        async def read() -> list[IngestionReceipt]:
            async with open_object_store(self.profile.wiring.object_store) as store:
                return await read_receipts(store)

        return asyncio.run(read())

    def wait_new_receipts(self, before: list[IngestionReceipt], count: int,
                          timeout_s: float = 240) -> list[IngestionReceipt]:
        """Wait until ``count`` receipts exist that were not in ``before``; returns them."""
        known = {r.receipt_id for r in before}

        def probe() -> tuple[bool, list[IngestionReceipt]]:
            new = [r for r in self.receipts() if r.receipt_id not in known]
            return len(new) >= count, new

        new: list[IngestionReceipt] = wait_for(probe, timeout_s, f"{count} new receipts")
        return new


@pytest.fixture(scope="module")
def streamed(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
             embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[Streamed]:
    """One worker, one READY run of the tiny world, streamed to the end."""
    os.environ["FP_INGEST_API_KEY"] = API_KEY
    root = tmp_path_factory.mktemp("streaming")
    cluster = Cluster(root, broker_state_dir)
    worker = cluster.spawn("w1")
    worker.wait_ready()
    profile = load_profile(worker.profile)
    world = root / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
    shutil.copytree(tiny_world, world)
    outcome = asyncio.run(sr_run(profile, RunRequest(world_locator=str(world),
                                                     scenario_id="baseline")))
    assert outcome.status == "READY" and outcome.ready is not None
    manifest = orjson.loads((world / "manifest.json").read_bytes())
    counts = {o["output_id"]: o["row_count"] for o in manifest["outputs"]
              if o["role"] in ("business_traffic", "label_feed")}
    first_day = min(dt.date.fromisoformat(p.name.split("=", 1)[1])
                    for p in (world / "outputs" / "auth_request").glob("utc_day=*"))
    state = Streamed(cluster, worker, profile, embedded_broker.bootstrap, outcome.run_id,
                     outcome.ready.pins.model_dump(), counts, first_day)
    state.wait_new_receipts([], sum(counts.values()))
    yield state
    cluster.stop_all()
    os.environ.pop("FP_INGEST_API_KEY", None)


def test_each_streamed_row_is_admitted_exactly_once(streamed: Streamed) -> None:
    receipts = streamed.receipts()
    assert Counter(r.decision.value for r in receipts) == {"ADMIT": sum(
        streamed.row_counts.values())}
    traffic = streamed.events(Topic.TRAFFIC)
    labels = streamed.events(Topic.LABELS)
    by_type = Counter(orjson.loads(v or b"")["event_type"] for *_, v in traffic)
    expected = {k: v for k, v in streamed.row_counts.items() if k != "label_event"}
    assert by_type == expected
    assert len(labels) == streamed.row_counts["label_event"]
    ids = Counter(orjson.loads(v or b"")["event_id"] for *_, v in traffic + labels)
    assert max(ids.values()) == 1
    for *_, value in traffic + labels:
        assert not TRUTH_COLUMNS & set(orjson.loads(value or b"")["payload"])


def test_admit_receipts_point_at_the_records_on_the_bus(streamed: Streamed) -> None:
    on_bus = {(p, o): orjson.loads(v or b"")["event_id"] for p, o, _, v in
              streamed.events(Topic.TRAFFIC)}
    for receipt in streamed.receipts():
        if receipt.eb_ref and receipt.eb_ref.topic.endswith(Topic.TRAFFIC.value):
            assert on_bus[(receipt.eb_ref.partition, receipt.eb_ref.offset)] == receipt.event_id


def test_streaming_again_yields_only_duplicates(streamed: Streamed) -> None:
    before = len(streamed.read(Topic.TRAFFIC))
    ingress = [(k or b"", v or b"") for _, _, k, v in streamed.read(Topic.INGRESS)
               if k != POKE_KEY and v]  # IG's pokes and WSP's progress markers: no submissions
    before_receipts = streamed.receipts()
    asyncio.run(produce(streamed.bootstrap, streamed.topic(Topic.INGRESS), ingress))
    new = streamed.wait_new_receipts(before_receipts, len(ingress))
    assert Counter(r.decision.value for r in new) == {"DUPLICATE": len(ingress)}
    assert len(streamed.read(Topic.TRAFFIC)) == before


_CORPUS_DAY0 = dt.date(2024, 3, 1)  # the corpus's first event day (tests/factories.py)


def _repin(raw: bytes, streamed: Streamed, corpus_pins: dict[str, Any]) -> bytes:
    """A corpus record as if made for the streamed run: its pins, and its dates moved by whole
    days into the run's event-time window (IG quarantines EVENT_TIME_IMPLAUSIBLE otherwise);
    a date that is not a real day (a case of its own) stays as it is."""
    for field in ("run_id", "manifest_fingerprint", "parameter_hash"):
        raw = raw.replace(corpus_pins[field].encode(), streamed.pins[field].encode())
    shift = streamed.first_day - _CORPUS_DAY0

    def moved(match: re.Match[bytes]) -> bytes:
        try:
            day = dt.date.fromisoformat(match.group(0).decode())
        except ValueError:
            return match.group(0)
        return (day + shift).isoformat().encode()

    return re.sub(rb"\b20\d\d-\d\d-\d\d(?=T)", moved, raw)


def _corpus(streamed: Streamed) -> tuple[list[CorpusCase], list[bytes]]:
    from tests.factories import make_pins

    corpus_pins = make_pins()
    cases = [dataclasses.replace(c, raw=_repin(c.raw, streamed, corpus_pins))
             for c in load_cases()]
    good = [_repin(g, streamed, corpus_pins) for g in good_envelopes()]
    return cases, good


def _by_ingress_digest(receipts: list[IngestionReceipt]) -> dict[str, IngestionReceipt]:
    return {r.quarantine_ref.digest.hex: r for r in receipts if r.quarantine_ref}


def test_bad_input_corpus_is_quarantined_through_the_topic(streamed: Streamed) -> None:
    from app.rails.canonical_json import sha256_hex

    cases, good = _corpus(streamed)
    interleaved = [raw for pair in zip(good * 10, [c.raw for c in cases], strict=False)
                   for raw in pair]
    precedence = streamed.profile.policy.ingest.partition_key_precedence
    records = [(ingress_key(raw, precedence), raw) for raw in interleaved] + \
              [(ingress_key(c.raw, precedence), c.raw) for c in cases[len(good) * 10:]]
    before = streamed.receipts()
    asyncio.run(produce(streamed.bootstrap, streamed.topic(Topic.INGRESS), records))
    # one receipt per distinct bad submission, one ADMIT and one DUPLICATE id per good one
    expected = len({sha256_hex(c.raw) for c in cases}) + 2 * len(good)
    receipts = streamed.wait_new_receipts(before, expected)
    quarantined = _by_ingress_digest(receipts)
    for case in cases:
        receipt = quarantined.get(sha256_hex(case.raw))
        assert receipt is not None, case.name
        assert receipt.reason_codes == (case.expected,), case.name
    admitted = {r.event_id for r in receipts if r.decision.value == "ADMIT"}
    assert len(admitted) == len(good)


def _post(streamed: Streamed, body: bytes, key: str | None) -> tuple[int, Any]:
    request = urllib.request.Request(f"{streamed.worker.base_url}/v1/ingest", data=body,
                                     method="POST")
    if key is not None:
        request.add_header(API_KEY_HEADER, key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # loopback only
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())


def _one_line(raw: bytes) -> bytes | None:
    """An NDJSON line carrying the same submission: JSON compacted; None if it cannot be one."""
    try:
        return orjson.dumps(orjson.loads(raw))
    except orjson.JSONDecodeError:
        return raw if raw.strip() and b"\n" not in raw else None


def test_http_push_answers_one_receipt_per_item_in_order(streamed: Streamed) -> None:
    cases, good = _corpus(streamed)
    lines = [(c, _one_line(c.raw)) for c in cases if len(c.raw) < 60_000]
    sendable = [(c, line) for c, line in lines if line is not None]
    assert len(sendable) >= 20
    items = [line for _, line in sendable] + [orjson.dumps(orjson.loads(g)) for g in good]
    status, body = _post(streamed, b"\n".join(items), API_KEY)
    assert status == 200, body
    receipts = [IngestionReceipt.model_validate(r) for r in body["receipts"]]
    assert len(receipts) == len(items)
    expected = [c.expected for c, _ in sendable]
    assert [r.reason_codes[0] for r in receipts[: len(expected)]] == expected
    assert {r.decision.value for r in receipts[len(expected):]} <= {"ADMIT", "DUPLICATE"}


def test_http_push_refuses_missing_or_wrong_key_and_oversize_batches(streamed: Streamed) -> None:
    one = good_envelopes()[0]
    assert _post(streamed, one, None) == (401, {"error": "AUTH_MISSING",
                                                "detail": f"missing {API_KEY_HEADER} header"})
    assert _post(streamed, one, "wrong")[0] == 401
    limit = streamed.profile.policy.ingest.max_batch_items
    status, body = _post(streamed, b"\n".join([one] * (limit + 1)), API_KEY)
    assert (status, body["error"]) == (413, "BATCH_TOO_LARGE")


def test_a_fresh_group_reads_back_the_admitted_sequence(streamed: Streamed) -> None:
    from aiokafka import AIOKafkaConsumer

    expected = {(p, o): v for p, o, _, v in streamed.read(Topic.TRAFFIC)}

    async def read_as_new_group() -> dict[tuple[int, int], bytes | None]:
        consumer = AIOKafkaConsumer(streamed.topic(Topic.TRAFFIC),
                                    bootstrap_servers=streamed.bootstrap,
                                    group_id=f"replay-check-{streamed.cluster.unique}",
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    session_timeout_ms=10_000)
        await consumer.start()
        seen: dict[tuple[int, int], bytes | None] = {}
        try:
            async with asyncio.timeout(60):
                while len(seen) < len(expected):
                    for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                        seen.update({(tp.partition, r.offset): r.value for r in records})
        finally:
            await consumer.stop()
        return seen

    assert asyncio.run(read_as_new_group()) == expected


def test_fp_replay_moves_a_group_and_it_reprocesses(streamed: Streamed) -> None:
    census_before = streamed.worker.get("/v1/census")[1]["counts"]
    group = streamed.profile.wiring.worker.app_id
    topic = streamed.topic(Topic.TRAFFIC)
    partitions = streamed.profile.wiring.worker.partitions
    streamed.worker.stop()
    moved = asyncio.run(reset_group_offsets([streamed.bootstrap], group, topic, partitions,
                                            to_offset=0))
    assert set(moved.values()) == {0}
    assert set(asyncio.run(committed_offsets([streamed.bootstrap], group, topic,
                                             partitions)).values()) == {0}
    streamed.worker.start().wait_ready()
    ends = {p: max((o for q, o, _, _ in streamed.read(Topic.TRAFFIC) if q == p), default=-1) + 1
            for p in range(partitions)}
    wait_for(lambda: ((c := asyncio.run(committed_offsets(
        [streamed.bootstrap], group, topic, partitions))) == ends, c), 120,
        "the census to reprocess the traffic topic")
    assert streamed.worker.get("/v1/census")[1]["counts"] == census_before  # idempotent

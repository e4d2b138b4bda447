"""A wiped bus gets its admitted traffic back from IG's archive, and nothing is admitted twice.

Issue #11 item 3: after a broker restart (the embedded broker keeps topics in memory), re-sending
an event admitted before gave a second ADMIT and a second, different decision. Here a run is
streamed and decided, the broker is replaced by a new, empty one, the worker restarts, and every
submission is sent again: each gets DUPLICATE with its original position, the traffic and label
logs come back from the archive byte for byte at their original offsets, and every trigger is
decided again exactly once, identically. Once the run is recorded as drained, a further new bus
starts empty: a finished run is not replayed onto the next bus (the next ``fp demo``'s).
IG's watermark records (issue #12; emission switched on here) are part of the traffic log: they
come back too, at their offsets, so every record after them keeps its offset.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import orjson
import pytest

from app.agents.ig import EMIT_WATERMARKS_ENV, POKE_KEY
from app.eb.embedded_broker import BrokerState, EmbeddedBroker
from app.eb.topics import Topic, topic_name
from app.ig.archive import read_heads, read_run
from app.ig.receipt_log import RECEIPTS_PREFIX
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.canonical_json import canonical_loads
from app.rails.watermark import TrafficWatermark
from app.sr.ledger import RunLedger
from tests.fixtures.broker import Cluster
from tests.fixtures.worlds import start_world_run
from tests.integration.bus_io import Record, is_event, produce, read_all
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]

ROWS_PER_OUTPUT = 300



def _receipt_lines(profile: Profile) -> list[dict[str, object]]:
    """Every receipt line in the object store, repeats included (the store is the truth)."""
    async def read() -> list[dict[str, object]]:
        async with open_object_store(profile.wiring.object_store) as store:
            return [canonical_loads(line) for key in await store.list(RECEIPTS_PREFIX)
                    for line in (await store.get(key)).splitlines() if line]

    return asyncio.run(read())


def _log(profile: Profile, state: BrokerState, topic: Topic) -> dict[int, list[Record]]:
    name = topic_name(topic, profile.wiring.worker.topic_prefix)
    return asyncio.run(read_all(state.bootstrap, name, profile.wiring.worker.partitions))


def _decisions(profile: Profile, state: BrokerState) -> list[bytes]:
    return [v or b"" for records in _log(profile, state, Topic.RTDL).values()
            for _, _, v in records if b'"record_type":"decision"' in (v or b"")]


def _final_watermarks(profile: Profile, state: BrokerState, run_id: str) -> set[int]:
    """Traffic partitions holding the run's final watermark (WSP's end, turned into a record)."""
    return {p for p, records in _log(profile, state, Topic.TRAFFIC).items()
            for _, _, v in records if not is_event(v)
            and (w := TrafficWatermark.model_validate_json(v or b"")).run_id == run_id
            and w.final}


def test_wiped_bus_is_restored_from_the_archive_and_resends_are_duplicates(
    tiny_world: Path, tmp_path: Path, own_broker: EmbeddedBroker,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EMIT_WATERMARKS_ENV, "1")  # every start of the worker inherits it
    cluster = Cluster(tmp_path, own_broker.state_dir,
                      policy_patch={"degrade": {"pinned": "NORMAL"},
                                    "testing": {"max_rows_per_output": ROWS_PER_OUTPUT}},
                      wiring_patch={"worker": {"agents": ["wsp", "ig", "hotpath"]}})
    try:
        worker = cluster.spawn("w1")
        worker.wait_ready()
        profile = load_profile(worker.profile)
        run_id, auths = start_world_run(tiny_world, tmp_path / "oracle", profile)
        first = own_broker.running()
        assert first is not None
        manifest = orjson.loads((tiny_world / "manifest.json").read_bytes())
        planned = sum(min(o["row_count"], ROWS_PER_OUTPUT) for o in manifest["outputs"]
                      if o["role"] in ("business_traffic", "label_feed"))
        wait_for(lambda: ((n := len(_decisions(profile, first))) >= min(auths, ROWS_PER_OUTPUT),
                          n), 180, "every authorisation to be decided")
        wait_for(lambda: ((n := len(_receipt_lines(profile))) >= planned, n), 60,
                 "every submission's receipt")
        partitions = set(range(profile.wiring.worker.partitions))
        wait_for(lambda: ((f := _final_watermarks(profile, first, run_id)) == partitions, f),
                 60, "the run's final watermark in every traffic partition")
        ingress = [(k or b"", v or b"") for records in
                   _log(profile, first, Topic.INGRESS).values() for _, k, v in records
                   if k != POKE_KEY and v]  # what the client (here WSP) sent, markers aside
        before = {t: _log(profile, first, t) for t in (Topic.TRAFFIC, Topic.LABELS)}
        decisions_before = sorted(_decisions(profile, first))
        receipts_before = _receipt_lines(profile)
        assert len(ingress) == len(receipts_before) == planned

        worker.stop()
        own_broker.down()  # the bus, and every topic on it, is gone
        second = asyncio.run(own_broker.up(timeout_s=30))
        assert second.epoch != first.epoch
        worker.start().wait_ready()
        # IG restores on taking its partitions, before any submission arrives.
        restored_count = sum(len(r) for r in before[Topic.TRAFFIC].values())
        wait_for(lambda: ((n := sum(len(r) for r in _log(profile, second, Topic.TRAFFIC)
                                    .values())) >= restored_count, n), 60,
                 "the traffic log to be restored from the archive")
        # The client sends everything again (WSP's READY went with the old bus).
        asyncio.run(produce(second.bootstrap, topic_name(
            Topic.INGRESS, profile.wiring.worker.topic_prefix), ingress))

        wait_for(lambda: ((n := len(_receipt_lines(profile))) >= 2 * planned, n), 180,
                 "a receipt for every re-sent submission")
        wait_for(lambda: ((n := len(_decisions(profile, second))) >= len(decisions_before), n),
                 180, "the restored triggers to be decided")

        lines = _receipt_lines(profile)
        seen_before = {orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in receipts_before}
        resent = [r for r in lines if orjson.dumps(r, option=orjson.OPT_SORT_KEYS)
                  not in seen_before]
        assert Counter(r["decision"] for r in resent) == {"DUPLICATE": planned}
        admits = Counter(r["event_id"] for r in lines if r["decision"] == "ADMIT")
        assert len(admits) == planned and set(admits.values()) == {1}  # one ADMIT line each
        original = {r["event_id"]: r["eb_ref"] for r in receipts_before}
        assert all(r["eb_ref"] == original[r["event_id"]] for r in resent)
        for topic, log in before.items():  # back at their original offsets, byte for byte
            assert _log(profile, second, topic) == log, topic
        marks = [(p, o) for p, records in before[Topic.TRAFFIC].items()
                 for o, _, v in records if not is_event(v)]
        assert len(marks) >= len(partitions)  # watermark records among them
        decisions_after = sorted(_decisions(profile, second))
        assert decisions_after == decisions_before  # each trigger once, identical
        ids = Counter(orjson.loads(d)["decision_id"] for d in decisions_after)
        assert set(ids.values()) == {1}
        assert asyncio.run(_archived_count(profile, run_id)) == restored_count

        # Once the run is recorded as drained (the main job does it), a new bus is a new bus:
        # nothing comes back, and the new generation starts its own archive.
        worker.stop()
        asyncio.run(_mark_drained(profile, run_id))
        own_broker.down()
        third = asyncio.run(own_broker.up(timeout_s=30))
        worker.start().wait_ready()
        wait_for(lambda: ((gens := asyncio.run(_newest_generations(profile))) == {third.epoch},
                          gens), 60, "IG to take every partition on the third bus")
        assert sum(len(r) for r in _log(profile, third, Topic.TRAFFIC).values()) == 0
    finally:
        cluster.stop_all()


async def _mark_drained(profile: Profile, run_id: str) -> None:
    async with open_object_store(profile.wiring.object_store) as store:
        await RunLedger(store, run_id).mark_drained()


async def _newest_generations(profile: Profile) -> set[str]:
    async with open_object_store(profile.wiring.object_store) as store:
        newest = set()
        for partition in range(profile.wiring.worker.partitions):
            heads = await read_heads(store, partition)
            newest.add(heads[-1].generation if heads else "")
        return newest


async def _archived_count(profile: Profile, run_id: str) -> int:
    async with open_object_store(profile.wiring.object_store) as store:
        return sum(len(records) for records in (await read_run(store, run_id)).values())

"""WSP progress -> IG watermark records on the traffic log, on the real broker (issue #12).

A capped tiny world is streamed by one worker running only WSP and IG, with IG's watermark
emission switched on (``FP_IG_EMIT_WATERMARKS``; the module constant stays off until the hot
path reads them). Then, on the bus: every traffic partition carries a final watermark for the
run; no admitted envelope sits behind a watermark it is earlier than (WSP's stream is sorted,
so WSP itself causes no lateness); every record sits in the partition numbered like the ingress
partition it came through; WSP's end markers reached every ingress partition; and IG's archive
holds the watermark records at their offsets.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.agents.ig import EMIT_WATERMARKS_ENV
from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.ig.archive import read_run
from app.ig.reconcile import INGRESS_HEADER
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.timefmt import ts_to_epoch_micros
from app.rails.watermark import (
    PROGRESS_END,
    PROGRESS_HEADER,
    PROGRESS_RUN_HEADER,
    TrafficWatermark,
    is_watermark_record,
)
from tests.fixtures.broker import Cluster
from tests.fixtures.worlds import start_world_run
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROWS_PER_OUTPUT = 300


def _read(profile: Profile, bootstrap: str, topic: Topic) -> list[Any]:
    name = topic_name(topic, profile.wiring.worker.topic_prefix)
    return asyncio.run(read_topic(bootstrap, name, profile.wiring.worker.partitions))


def _finals(profile: Profile, bootstrap: str, run_id: str) -> set[int]:
    """Traffic partitions holding a final watermark of ``run_id``."""
    return {r.partition for r in _read(profile, bootstrap, Topic.TRAFFIC)
            if is_watermark_record(r.headers)
            and (w := TrafficWatermark.model_validate_json(r.value)).run_id == run_id and w.final}


def test_every_traffic_partition_gets_watermarks_that_follow_what_they_cover(
        tiny_world: Path, tmp_path: Path, embedded_broker: BrokerState,
        broker_state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EMIT_WATERMARKS_ENV, "1")  # the worker process inherits it
    cluster = Cluster(tmp_path, broker_state_dir,
                      policy_patch={"testing": {"max_rows_per_output": ROWS_PER_OUTPUT}},
                      wiring_patch={"worker": {"agents": ["wsp", "ig"]}})
    try:
        worker = cluster.spawn("w1")
        worker.wait_ready()
        profile = load_profile(worker.profile)
        partitions = profile.wiring.worker.partitions
        bootstrap = embedded_broker.bootstrap
        run_id, _ = start_world_run(tiny_world, tmp_path / "oracle", profile)
        wait_for(lambda: ((f := _finals(profile, bootstrap, run_id)) == set(range(partitions)),
                          f), 180, "a final watermark in every traffic partition")

        traffic = _read(profile, bootstrap, Topic.TRAFFIC)
        marks = [r for r in traffic if is_watermark_record(r.headers)]
        assert marks and len({r.partition for r in marks}) == partitions
        # (c) every record in the partition numbered like its ingress partition
        for r in traffic + _read(profile, bootstrap, Topic.LABELS):
            assert dict(r.headers)[INGRESS_HEADER] == str(r.partition).encode(), r
        admitted = 0
        for partition in range(partitions):
            watermark, final = -1, False
            for r in (r for r in traffic if r.partition == partition):
                if is_watermark_record(r.headers):
                    mark = TrafficWatermark.model_validate_json(r.value)
                    assert (mark.run_id, mark.partition, mark.partitions) == (
                        run_id, partition, partitions)
                    assert r.key == run_id.encode()
                    assert not final  # (a) nothing follows the end but the end
                    final = mark.final
                    if mark.watermark_ts_utc is not None:
                        micros = ts_to_epoch_micros(mark.watermark_ts_utc)
                        assert micros > watermark  # only written when it advanced
                        watermark = micros
                    continue
                event = orjson.loads(r.value)
                assert not final, "an admitted event after the run's final watermark"
                # (b) no admitted event is earlier than a watermark written before it
                assert ts_to_epoch_micros(event["ts_utc"]) >= watermark, (partition, r.offset)
                admitted += 1
            assert final, partition
        assert admitted > 0

        # WSP's end markers reached every ingress partition (IG consumed and dropped them)
        ends = {r.partition for r in _read(profile, bootstrap, Topic.INGRESS)
                if not r.value and dict(r.headers).get(PROGRESS_HEADER) == PROGRESS_END
                and dict(r.headers).get(PROGRESS_RUN_HEADER) == run_id.encode()}
        assert ends == set(range(partitions))

        # the archive holds the watermark records where the bus has them
        def archived() -> tuple[bool, Any]:
            async def read() -> dict[tuple[int, int], bytes]:
                async with open_object_store(profile.wiring.object_store) as store:
                    return {(p, r.offset): orjson.dumps(r.record, option=orjson.OPT_SORT_KEYS)
                            for p, rs in (await read_run(store, run_id)).items()
                            for r in rs if r.is_watermark}
            got = asyncio.run(read())
            return len(got) >= len(marks), got

        on_archive = wait_for(archived, 60, "the watermark records in IG's archive")
        assert on_archive == {(r.partition, r.offset): r.value for r in marks}
    finally:
        cluster.stop_all()

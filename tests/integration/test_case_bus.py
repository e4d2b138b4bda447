"""The case bus on the real broker: a worker running only the ``case_bus`` agent relays the case
log in the object store to ``fp.bus.case.v1``, is ``kill -9``-ed while case events keep being
written, and is restarted; judged from outside, the topic read back against the store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from app.cases.bus import EventId, partition_of, stored_events
from app.cases.log import event_key
from app.eb.embedded_broker import BrokerState
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.canonical_json import canonical_loads
from app.runtime.bus_address import bootstrap_servers
from tests.factories import write_case_events
from tests.fixtures.broker import Cluster
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


def _stored(profile: Profile) -> dict[EventId, bytes]:
    async def read() -> dict[EventId, bytes]:
        async with open_object_store(profile.wiring.object_store,
                                     base_dir=profile.base_dir) as store:
            return {e: await store.get(event_key(*e)) for e in await stored_events(store)}
    return asyncio.run(read())


def _write(profile: Profile, cases: range, version: int, pause_s: float = 0.0) -> None:
    async def write() -> None:
        async with open_object_store(profile.wiring.object_store,
                                     base_dir=profile.base_dir) as store:
            for index in cases:
                await write_case_events(store, index, version)
                if pause_s:
                    await asyncio.sleep(pause_s)
    asyncio.run(write())


def _topic(profile: Profile) -> list[Any]:
    worker = profile.wiring.worker
    name = topic_name(Topic.CASE, worker.topic_prefix)
    return asyncio.run(read_topic(bootstrap_servers(profile)[0], name, worker.partitions))


def _caught_up(profile: Profile) -> tuple[bool, str]:
    stored, records = _stored(profile), _topic(profile)
    return len(records) >= len(stored), f"{len(records)} records / {len(stored)} stored"


def test_every_stored_case_event_is_on_the_topic_exactly_once_across_kill_9(
        tmp_path: Path, embedded_broker: BrokerState, broker_state_dir: Path) -> None:
    cluster = Cluster(tmp_path, broker_state_dir)
    try:
        worker = cluster.spawn("w1", agents=["case_bus"])
        profile = load_profile(worker.profile)
        _write(profile, range(40), version=2)  # before the worker is up
        worker.wait_ready()
        wait_for(lambda: _caught_up(profile), 120, "the first case events on the topic")

        # Cases keep changing while the worker is killed and restarted.
        writer = threading.Thread(target=_write, args=(profile, range(20, 120), 4, 0.05))
        writer.start()
        time.sleep(2.0)
        at_kill = len(_topic(profile))
        worker.kill9()
        writing_at_kill = writer.is_alive()
        stored_at_kill = len(_stored(profile))
        time.sleep(1.0)
        worker.start().wait_ready(timeout_s=180)
        writer.join(timeout=120)
        assert not writer.is_alive()
        print(f"kill -9 with {at_kill} events on the topic, {stored_at_kill} stored; "
              f"{len(_stored(profile))} stored in the end")
        wait_for(lambda: _caught_up(profile), 180, "every case event on the topic")
        time.sleep(3.0)  # a few more ticks: anything published twice would show now

        stored, records = _stored(profile), _topic(profile)
        partitions = profile.wiring.worker.partitions
        seen: Counter[EventId] = Counter()
        last: dict[str, int] = {}
        for r in records:
            body = canonical_loads(r.value)
            event = (body["case_id"], body["seq"])
            seen[event] += 1
            assert r.key == event[0].encode() and r.value == stored[event]
            assert r.partition == partition_of(event[0], partitions)
            assert event[1] == last.get(event[0], 0) + 1  # the case's events in seq order
            last[event[0]] = event[1]
        assert set(seen) == set(stored) and set(seen.values()) == {1}
        assert writing_at_kill and len(stored) > stored_at_kill  # the kill was mid-way
        assert worker.exit_code() is None
    finally:
        cluster.stop_all()

"""Integration fixtures: one real embedded broker per test session, isolated profiles per test.

If the broker cannot start, tests FAIL with the reason (never skip): the platform's behaviour
on a real Kafka-protocol broker is what these tests exist to show.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.eb.embedded_broker import BrokerState, EmbeddedBroker
from app.profiles.loader import repo_root
from app.rails.errors import BrokerError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def broker_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("broker")


@pytest.fixture(scope="session")
def embedded_broker(broker_state_dir: Path) -> Iterator[BrokerState]:
    """The session's broker: started once, stopped at the end."""
    broker = EmbeddedBroker(broker_state_dir)
    try:
        state = asyncio.run(broker.up(timeout_s=30))
    except BrokerError as exc:
        pytest.fail(f"the embedded broker could not start: {exc}", pytrace=False)
    yield state
    broker.down()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ProfileFactory = Callable[..., Path]


@pytest.fixture
def make_profile(
    tmp_path: Path, embedded_broker: BrokerState, broker_state_dir: Path
) -> ProfileFactory:
    """Write a local-style profile isolated for this test: own topics, group, ports, folders.

    Call it once per worker process (same ``tag`` = same app, so they share a consumer group).
    """
    base = yaml.safe_load((repo_root() / "profiles" / "local.yaml").read_text())
    unique = uuid.uuid4().hex[:8]

    def factory(worker: str = "w1", **wiring_overrides: Any) -> Path:
        body = dict(base)
        wiring = dict(body["wiring"])
        wiring["broker"] = {"type": "tansu", "state_dir": str(broker_state_dir)}
        wiring["object_store"] = {"type": "local", "root": str(tmp_path / "objects")}
        wiring["oracle_root"] = str(tmp_path / "oracle")
        wiring["worker"] = {
            **wiring["worker"],
            "app_id": f"fp-test-{unique}",
            "topic_prefix": f"t{unique}.",
            "datadir": str(tmp_path / worker / "data"),
            "web_port": free_port(),
            **wiring_overrides,
        }
        body["wiring"] = wiring
        body["name"] = f"test-{worker}"
        path = tmp_path / f"profile-{worker}.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False))
        return path

    return factory


@pytest.fixture
def spawn_worker(make_profile: ProfileFactory, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``spawn_worker(name, **wiring)``: a started ``fp worker``; all are stopped at teardown."""
    from app.runtime.supervisor import WorkerProcess

    started: list[WorkerProcess] = []

    def factory(name: str, **wiring_overrides: Any) -> WorkerProcess:
        path = make_profile(name, **wiring_overrides)
        worker = yaml.safe_load(path.read_text())["wiring"]["worker"]
        process = WorkerProcess(str(path), worker["web_port"], tmp_path / f"{name}.log")
        started.append(process.start())
        return process

    yield factory
    for process in started:
        process.stop()

"""Build the one Faust app of a worker from a validated profile (no import-time globals).

Settings that matter and why:
- ``processing_guarantee=at_least_once`` on every wiring: the embedded broker has no idempotent
  producer or transactions, and one semantics everywhere keeps behaviour comparable; every
  consumer is idempotent instead.
- ``store=rocksdb://`` is faust's RocksDB store, backed by rocksdict, with Kafka changelogs.
- the broker URL scheme picks the transport (``tansu://`` = compatibility layer).
- a short linger keeps producer batching on: many tiny batches make Tansu fetches slow.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import faust

from app.profiles.loader import Profile
from app.profiles.wiring import KafkaBroker
from app.runtime.agent_context import AgentContext
from app.runtime.broker_watch import ProbeResult, bootstrap_probe, mount_broker_watch
from app.runtime.bus_address import (
    bootstrap_servers,
    broker_epoch,
    embedded_broker,
    faust_broker_url,
)
from app.runtime.health import mount_health
from app.runtime.metrics import mount_metrics
from app.runtime.web_server import web_application_options

__all__ = ["DEFAULT_AGENTS", "AgentRegistrar", "build_app"]

AgentRegistrar = Callable[[faust.App, AgentContext], None]


def _default_agents(profile: Profile) -> list[AgentRegistrar]:
    """The profile's agents (``wiring.worker.agents``; all of them when unset).

    Modules are imported only when chosen, so a worker with a split role loads only its code.
    """
    chosen = profile.wiring.worker.agents
    names = chosen if chosen is not None else tuple(_AGENT_MODULES)
    return [importlib.import_module(_AGENT_MODULES[name]).register for name in names]


_AGENT_MODULES: dict[str, str] = {
    "wsp": "app.agents.wsp",
    "ig": "app.agents.ig",
    "ig_http": "app.agents.ig_http",
    "census": "app.agents.census",
    "hotpath": "app.agents.hot_path",
    "al": "app.agents.action_layer",
    "dla": "app.agents.audit_log",
    "labels": "app.agents.labels",
    "case_bus": "app.agents.case_bus",
}
"""Every agent a worker can run, by its ``wiring.worker.agents`` name (order = start order)."""


DEFAULT_AGENTS: Sequence[AgentRegistrar] | None = None  # None = _default_agents(profile)


def _credentials(profile: Profile) -> faust.SASLCredentials | None:
    broker = profile.wiring.broker
    if isinstance(broker, KafkaBroker) and broker.sasl_username_env and broker.sasl_password_env:
        # Read at start from the environment; never stored in the profile or logged.
        return faust.SASLCredentials(
            username=os.environ.get(broker.sasl_username_env, ""),
            password=os.environ.get(broker.sasl_password_env, ""),
        )
    return None


def _datadir(profile: Profile) -> Path:
    """Table stores live under the broker instance they were derived from.

    The embedded broker keeps topics in memory: a new instance has empty changelogs, and a
    store persisted for the old one would make faust's recovery fail (ConsistencyError). Stores
    of other (gone) instances are removed; a Kafka wiring uses the folder as configured.
    """
    root = profile.resolve(profile.wiring.worker.datadir)
    epoch = broker_epoch(profile)
    if epoch is None:
        root.mkdir(parents=True, exist_ok=True)  # faust expects it to exist
        return root
    current = root / f"broker-{epoch}"
    if root.is_dir():
        for stale in root.glob("broker-*"):
            if stale != current:
                shutil.rmtree(stale, ignore_errors=True)
    current.mkdir(parents=True, exist_ok=True)
    return current


def _broker_identity(profile: Profile) -> Callable[[], ProbeResult] | None:
    """For the embedded broker: is the instance the worker started against still the one?

    A different instance id means a new, empty bus (topics, offsets and changelogs gone): no
    waiting helps, the worker must restart against it. Kafka's log is durable: no check.
    """
    epoch = broker_epoch(profile)
    if epoch is None:
        return None
    broker = embedded_broker(profile)

    def identity() -> ProbeResult:
        state = broker.read_state()
        if state is None:
            return ProbeResult(False, f"embedded broker stopped (no {broker.state_path})")
        if state.epoch != epoch:
            return ProbeResult(False, f"embedded broker replaced (instance {epoch} -> "
                                      f"{state.epoch}): the bus this worker read is gone",
                               fatal=True)
        return ProbeResult(True)

    return identity


def build_app(
    profile: Profile, *, agents: Sequence[AgentRegistrar] | None = DEFAULT_AGENTS
) -> faust.App:
    """A configured Faust app with the metrics page and every agent registered."""
    worker = profile.wiring.worker
    datadir = _datadir(profile)
    app = faust.App(
        worker.app_id,
        broker=faust_broker_url(profile),
        broker_credentials=_credentials(profile),
        store="rocksdb://",
        datadir=str(datadir),
        web_bind=worker.web_host,
        web_host=worker.web_host,
        web_port=worker.web_port,
        topic_partitions=worker.partitions,
        topic_replication_factor=worker.replication_factor,
        processing_guarantee="at_least_once",
        broker_session_timeout=worker.session_timeout_s,
        broker_heartbeat_interval=max(worker.session_timeout_s / 10, 0.5),
        consumer_auto_offset_reset="earliest",
        producer_linger_ms=5,
        autodiscover=False,
        table_standby_replicas=1,
        web_application_options=web_application_options(profile),
    )
    mount_metrics(app)
    mount_broker_watch(
        app,
        bootstrap_probe(bootstrap_servers(profile), max(worker.broker_probe_interval_s, 0.5),
                        _broker_identity(profile)),
        interval_s=worker.broker_probe_interval_s,
        fail_stop_after_s=worker.broker_loss_fail_stop_s,
    )
    mount_health(app)
    ctx = AgentContext(profile)
    for register in agents if agents is not None else _default_agents(profile):
        register(app, ctx)
    return app

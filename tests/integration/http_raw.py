"""A raw HTTP/1.1 client over a socket, for tests that must send what real clients refuse to
(non-ASCII header bytes, lying Content-Length, stalled bodies), plus the envelopes they send.

Every call has a socket timeout: a test never waits without a bound.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from app.ig.http_ingest import API_KEY_HEADER
from app.profiles.loader import Profile, load_profile
from app.rails.receipts import IngestionReceipt
from app.rails.timefmt import epoch_micros_to_ts
from app.runtime.supervisor import WorkerProcess
from tests.fixtures.broker import Cluster

__all__ = ["API_KEY", "BODY_S", "IDLE_S", "Answer", "Gate", "auth_line", "connect", "post",
           "read_answer", "request_bytes", "start_gate"]

API_KEY = "hardening-key-" + "7" * 10
IDLE_S = 3.0
BODY_S = 3.0

_TEMPLATE_PAYLOAD = {
    "account_id": "acct_00000001", "amount_minor": 1001, "card_id": "card_00000001",
    "channel": "online", "currency": "EUR", "customer_id": "cust_00000001",
    "device_id": "dev_00000001", "entry_mode": "ecommerce", "flow_id": "flow_000000000001",
    "ip_id": "ip_00000001", "mcc": "5411", "merchant_country": "GB",
    "merchant_id": "merch_00000001",
}
_WORLD_T0_US = 1_740_960_000_000_000  # 2025-03-03T00:00:00Z: the test worlds' first utc_day


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


def auth_line(index: int, pins: dict[str, Any], seed: int, *, tag: str = "b",
              pad_to: int = 0, **payload: Any) -> bytes:
    """A valid ``auth_request`` line of the run ``pins`` (distinct per ``index`` and ``tag``),
    inside the test world's time span; ``pad_to`` adds insignificant JSON whitespace."""
    event_id = hashlib.sha256(f"{tag}-{index}".encode()).hexdigest()
    body = {
        "event_id": event_id, "event_type": "auth_request", "schema_version": "v1",
        "ts_utc": epoch_micros_to_ts(_WORLD_T0_US + 6 * 3_600_000_000 + index * 1_000_000),
        "manifest_fingerprint": pins["manifest_fingerprint"],
        "parameter_hash": pins["parameter_hash"], "scenario_id": pins["scenario_id"],
        "run_id": pins["run_id"], "seed": seed, "producer": "http-test",
        "payload": {**_TEMPLATE_PAYLOAD, "card_id": f"card_{90_000_000 + index % 50:08d}",
                    "flow_id": f"flow_{900_000_000 + index:012d}", **payload},
    }
    line = orjson.dumps(body)
    if pad_to > len(line):
        line = b"{" + b" " * (pad_to - len(line)) + line[1:]
    return line


def request_bytes(path: str, body: bytes, headers: Sequence[tuple[bytes, bytes]] = (), *,
                  method: bytes = b"POST", content_length: int | None = None,
                  close: bool = True) -> bytes:
    """The bytes of one request (``content_length`` may lie; None = the body's length)."""
    lines = [method + b" " + path.encode() + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in headers]
    if content_length != -1:
        lines.append(b"Content-Length: %d" % (len(body) if content_length is None
                                               else content_length))
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def connect(port: int, timeout_s: float) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    sock.settimeout(timeout_s)
    return sock


def read_answer(sock: socket.socket) -> Answer:
    """Read one response: up to its Content-Length, else until the server closes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    if b"\r\n\r\n" not in data:
        raise ConnectionError(f"the server closed without a complete answer: {data[:80]!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers["content-length"]) if "content-length" in headers else None
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return Answer(int(status_line.split(" ")[1]), headers, body)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


def post(port: int, body: bytes, key: str | bytes | None, *, timeout_s: float = 60.0,
         extra: Sequence[tuple[bytes, bytes]] = ()) -> Answer:
    """``POST /v1/ingest`` with ``key`` (bytes are sent as they are) and wait for the answer."""
    headers = list(extra)
    if key is not None:
        headers.append((API_KEY_HEADER.encode(), key.encode() if isinstance(key, str) else key))
    with connect(port, timeout_s) as sock:
        sock.sendall(request_bytes("/v1/ingest", body, headers))
        return read_answer(sock)


@dataclass
class Gate:
    worker: WorkerProcess
    profile: Profile
    pins: dict[str, Any]
    seed: int

    @property
    def port(self) -> int:
        return self.profile.wiring.worker.web_port

    def line(self, index: int, **kwargs: Any) -> bytes:
        return auth_line(index, self.pins, self.seed, **kwargs)

    def receipts(self, answer: Answer) -> list[IngestionReceipt]:
        assert answer.status == 200, (answer.status, answer.body[:500])
        return [IngestionReceipt.model_validate(r) for r in answer.json()["receipts"]]


def start_gate(tiny_world: Path, root: Path, broker_state_dir: Path,
               policy_patch: dict[str, Any] | None = None) -> tuple[Cluster, Gate]:
    """One worker running only IG and its HTTP view, and one READY run of the tiny world."""
    from app.cli.sr_cmd import sr_run
    from app.sr.run_request import RunRequest

    cluster = Cluster(root, broker_state_dir, policy_patch=policy_patch, wiring_patch={
        "worker": {"http_idle_timeout_s": IDLE_S, "http_body_timeout_s": BODY_S}})
    worker = cluster.spawn("w1", agents=["ig", "ig_http"])
    worker.wait_ready()
    profile = load_profile(worker.profile)
    world = root / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
    shutil.copytree(tiny_world, world)
    outcome = asyncio.run(sr_run(profile, RunRequest(world_locator=str(world),
                                                     scenario_id="baseline")))
    assert outcome.status == "READY" and outcome.ready is not None
    return cluster, Gate(worker, profile, outcome.ready.pins.model_dump(), outcome.ready.seed)

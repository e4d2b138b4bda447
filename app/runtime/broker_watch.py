"""Broker watchdog: notice a lost bus within seconds, say so on health, fail-stop past a bound.

aiokafka and faust retry a dead broker forever: the worker keeps answering ``/v1/health`` 200,
HTTP requests hang on sends that never complete, and the log fills with one ERROR per retry.
A lost broker is an *infrastructure* failure, so the worker must fail-stop like any other
(:mod:`app.runtime.fail_stop`): the process supervisor restarts it, and the restarted worker
connects to whatever broker the wiring names now (a new embedded broker may be on a new port).

How loss is detected (evidence, not guesses):

- every ``wiring.worker.broker_probe_interval_s`` the watch sends a Kafka ``ApiVersions`` request
  (the cheapest request every broker answers, also before SASL) to each bootstrap server with a
  short timeout; the bus is reachable while *any* of them answers;
- for the embedded broker it also reads the broker's state file: a missing file (``fp broker
  down``) or a different instance id (a new, empty broker: the bus this worker's tables and
  offsets came from is gone) is fatal at once.

States (:class:`BrokerLossTracker`, pure, clock and probe injected):

    REACHABLE --probe fails--> SUSPECT --``failures_to_lose`` in a row--> LOST
        ^                         |                                         |
        +------probe answers------+-----------------------------------------+
    LOST for ``broker_loss_fail_stop_s`` (counted from the first failed probe) --> fail-stop
    a fatal probe result (state file gone or instance changed) ---------------> fail-stop now

:func:`broker_lost_reason` is what health and the HTTP ingest view read: ``None`` while the bus
is believed reachable, else a short reason. A blip shorter than the bound only flips health to
not-ready for its duration; the worker keeps its state and goes on.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import socket
import struct
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import faust
from mode import Service
from prometheus_client import Gauge

from app.rails.errors import BrokerError
from app.runtime.fail_stop import fail_stop
from app.runtime.structured_log import log_event

__all__ = [
    "BROKER_REACHABLE",
    "BrokerLossTracker",
    "BrokerWatch",
    "ProbeResult",
    "WatchState",
    "api_versions_probe",
    "broker_lost_reason",
    "mount_broker_watch",
]

logger = logging.getLogger(__name__)

BROKER_REACHABLE = Gauge(
    "fp_broker_reachable", "1 while the worker's broker watch believes the bus reachable, else 0."
)


class WatchState(enum.Enum):
    REACHABLE = "REACHABLE"
    SUSPECT = "SUSPECT"
    LOST = "LOST"
    FAILED = "FAILED"  # fail-stop was decided; the process is exiting


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One look at the broker: ``ok``, or why not; ``fatal`` = no point in waiting."""

    ok: bool
    reason: str = ""
    fatal: bool = False


PROBE_OK = ProbeResult(ok=True)


class BrokerLossTracker:
    """The watch's state machine (pure: feed it probe results and monotonic times)."""

    def __init__(self, *, failures_to_lose: int = 2, fail_stop_after_s: float = 15.0) -> None:
        if failures_to_lose < 1 or fail_stop_after_s <= 0:
            raise ValueError("failures_to_lose >= 1 and fail_stop_after_s > 0 are required")
        self.failures_to_lose = failures_to_lose
        self.fail_stop_after_s = fail_stop_after_s
        self.state = WatchState.REACHABLE
        self.failures = 0
        self.first_failure_s: float | None = None
        self.reason: str | None = None
        """The last failed probe's reason while SUSPECT/LOST/FAILED, else None."""

    @property
    def lost_reason(self) -> str | None:
        """None unless LOST (or FAILED): what health and the ingest view report."""
        if self.state in (WatchState.LOST, WatchState.FAILED):
            return self.reason
        return None

    def lost_for_s(self, now: float) -> float:
        return 0.0 if self.first_failure_s is None else now - self.first_failure_s

    def observe(self, result: ProbeResult, now: float) -> WatchState:
        """Take one probe result taken at ``now``; returns the new state."""
        if self.state is WatchState.FAILED:
            return self.state
        if result.ok:
            self.state, self.failures = WatchState.REACHABLE, 0
            self.first_failure_s = self.reason = None
            return self.state
        self.failures += 1
        self.reason = result.reason or "broker probe failed"
        if self.first_failure_s is None:
            self.first_failure_s = now
        if result.fatal or self.lost_for_s(now) >= self.fail_stop_after_s:
            self.state = WatchState.FAILED
        elif self.failures >= self.failures_to_lose:
            self.state = WatchState.LOST
        else:
            self.state = WatchState.SUSPECT
        return self.state


_API_VERSIONS = 18
_CORRELATION = itertools.count(1)
_CLIENT_ID = b"fp-broker-watch"


def _api_versions_blocking(bootstrap: str, timeout_s: float) -> ProbeResult:
    host, _, port = bootstrap.rpartition(":")
    correlation = next(_CORRELATION) & 0x7FFFFFFF
    deadline = time.monotonic() + timeout_s

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s) as sock:
            header = struct.pack(">hhih", _API_VERSIONS, 0, correlation, len(_CLIENT_ID))
            request = header + _CLIENT_ID
            sock.settimeout(remaining())
            sock.sendall(struct.pack(">i", len(request)) + request)
            answer = b""
            while len(answer) < 10:  # size (4) + correlation id (4) + error code (2)
                sock.settimeout(remaining())
                chunk = sock.recv(64)
                if not chunk:
                    return ProbeResult(False, f"broker {bootstrap} closed the connection")
                answer += chunk
    except TimeoutError:
        return ProbeResult(False, f"broker {bootstrap} did not answer within {timeout_s:g}s")
    except (OSError, ValueError) as exc:
        return ProbeResult(False, f"broker {bootstrap} unreachable: {type(exc).__name__}: "
                                  f"{getattr(exc, 'strerror', None) or exc}")
    size, got, error_code = struct.unpack(">iih", answer[:10])
    if size < 6 or got != correlation:
        return ProbeResult(False, f"broker {bootstrap} sent a malformed ApiVersions answer")
    if error_code != 0:
        return ProbeResult(False, f"broker {bootstrap} answered ApiVersions with error "
                                  f"{error_code}")
    return PROBE_OK


_PROBE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fp-broker-probe")


async def api_versions_probe(bootstrap: str, timeout_s: float) -> ProbeResult:
    """Send one Kafka ``ApiVersions`` v0 request to ``host:port``; ok if it is answered in time.

    A raw request on a fresh connection: no client library, so no retry loop and no log spam.
    It runs on the watch's own thread with a blocking socket, so the timeout measures the
    broker, not how busy the worker's event loop is (a loop stalled by a large batch must not
    look like a lost broker).
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_PROBE_THREAD, _api_versions_blocking, bootstrap,
                                      timeout_s)


Probe = Callable[[], Awaitable[ProbeResult]]


def bootstrap_probe(servers: Sequence[str], timeout_s: float,
                    identity: Callable[[], ProbeResult] | None = None) -> Probe:
    """A probe that is ok while any of ``servers`` answers (and ``identity`` holds, if given)."""

    async def probe() -> ProbeResult:
        if identity is not None:
            checked = identity()
            if not checked.ok:
                return checked
        reasons: list[str] = []
        for server in servers:
            result = await api_versions_probe(server, timeout_s)
            if result.ok:
                return result
            reasons.append(result.reason)
        return ProbeResult(False, "; ".join(reasons) or "no bootstrap servers")

    return probe


class BrokerWatch(Service):
    """Runs the probe every ``interval_s`` and acts on the tracker's verdict.

    Mounted as a dependency of the app (:func:`mount_broker_watch`), so it starts before the
    producer and consumer and keeps watching during recovery, rebalances and shutdown.
    """

    def __init__(self, probe: Probe, tracker: BrokerLossTracker, *, interval_s: float = 1.0,
                 now: Callable[[], float] = time.monotonic,
                 on_fail_stop: Callable[[str], None] | None = None, **kwargs: Any) -> None:
        self.probe = probe
        self.tracker = tracker
        self.interval_s = interval_s
        self.now = now
        self.on_fail_stop = on_fail_stop or _fail_stop
        super().__init__(**kwargs)

    @property
    def lost_reason(self) -> str | None:
        return self.tracker.lost_reason

    async def check_once(self) -> WatchState:
        """One probe and its consequences (logs state changes; fail-stops when due)."""
        before = self.tracker.state
        result = await self.probe()
        state = self.tracker.observe(result, self.now())
        BROKER_REACHABLE.set(1 if state in (WatchState.REACHABLE, WatchState.SUSPECT) else 0)
        if state is not before:
            log_event(logger, "broker_watch.state", state=state.value, was=before.value,
                      reason=self.tracker.reason,
                      lost_for_s=round(self.tracker.lost_for_s(self.now()), 3))
        if state is WatchState.LOST and before is not WatchState.LOST:
            logger.error("broker lost: %s; the worker fail-stops if it is not back within "
                         "%.0fs", self.tracker.reason, self.tracker.fail_stop_after_s)
        if state is WatchState.FAILED:
            self.on_fail_stop(self.tracker.reason or "broker lost")
        return state

    @Service.task
    async def _watch(self) -> None:
        while not self.should_stop:
            await self.check_once()
            await self.sleep(self.interval_s)


def _fail_stop(reason: str) -> None:
    fail_stop("broker_watch", BrokerError(f"broker lost: {reason}", reason_code="BROKER_LOST"))


_WATCHES: weakref.WeakKeyDictionary[faust.App, BrokerWatch] = weakref.WeakKeyDictionary()


def broker_lost_reason(app: faust.App) -> str | None:
    """Why this app's broker is believed lost, or None while it is believed reachable.

    None also when no watch is mounted on ``app`` (tests that build apps without one).
    """
    watch = _WATCHES.get(app)
    return None if watch is None else watch.lost_reason


def mount_broker_watch(app: faust.App, probe: Probe, *, interval_s: float,
                       fail_stop_after_s: float, failures_to_lose: int = 2) -> BrokerWatch:
    """Start a :class:`BrokerWatch` with ``app`` (before its producer and consumer)."""
    watch = BrokerWatch(probe, BrokerLossTracker(failures_to_lose=failures_to_lose,
                                                 fail_stop_after_s=fail_stop_after_s),
                        interval_s=interval_s)
    app.add_dependency(watch)
    _WATCHES[app] = watch
    return watch

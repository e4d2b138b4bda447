"""The broker watch's state machine, probe and fail-stop trigger (issue #11 item 2).

A lost broker must turn the worker not-ready within seconds and fail-stop it past a bound;
a blip shorter than the bound must not kill it. Clock and probe are injected.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterator

import faust
import pytest

from app.runtime.broker_watch import (
    BrokerLossTracker,
    BrokerWatch,
    ProbeResult,
    WatchState,
    api_versions_probe,
    bootstrap_probe,
    broker_lost_reason,
    mount_broker_watch,
)

pytestmark = pytest.mark.timeout(30)

OK = ProbeResult(True)
DOWN = ProbeResult(False, "broker 127.0.0.1:1 unreachable: ConnectionRefusedError")


def test_one_failed_probe_is_only_suspect_and_two_are_lost() -> None:
    tracker = BrokerLossTracker(failures_to_lose=2, fail_stop_after_s=15)
    assert tracker.observe(DOWN, 0.0) is WatchState.SUSPECT
    assert tracker.lost_reason is None
    assert tracker.observe(DOWN, 1.0) is WatchState.LOST
    assert tracker.lost_reason == DOWN.reason


def test_a_blip_shorter_than_the_bound_never_fail_stops_and_clears_on_recovery() -> None:
    tracker = BrokerLossTracker(failures_to_lose=2, fail_stop_after_s=15)
    states = [tracker.observe(DOWN, float(t)) for t in range(14)]  # 0..13 s lost
    assert WatchState.FAILED not in states and states[-1] is WatchState.LOST
    assert tracker.observe(OK, 14.0) is WatchState.REACHABLE
    assert tracker.lost_reason is None and tracker.lost_for_s(20.0) == 0.0
    # the bound counts from the first failure of the *new* loss, not the old one
    assert tracker.observe(DOWN, 20.0) is WatchState.SUSPECT
    assert tracker.observe(DOWN, 34.0) is WatchState.LOST


def test_lost_for_the_bound_fail_stops_and_stays_failed() -> None:
    tracker = BrokerLossTracker(failures_to_lose=2, fail_stop_after_s=15)
    tracker.observe(DOWN, 100.0)
    tracker.observe(DOWN, 101.0)
    assert tracker.observe(DOWN, 114.9) is WatchState.LOST
    assert tracker.observe(DOWN, 115.0) is WatchState.FAILED
    assert tracker.observe(OK, 116.0) is WatchState.FAILED  # the process is exiting
    assert tracker.lost_reason == DOWN.reason


def test_a_fatal_probe_fail_stops_at_once() -> None:
    tracker = BrokerLossTracker(failures_to_lose=2, fail_stop_after_s=15)
    replaced = ProbeResult(False, "embedded broker replaced", fatal=True)
    assert tracker.observe(replaced, 0.0) is WatchState.FAILED
    assert tracker.lost_reason == "embedded broker replaced"


@pytest.mark.parametrize(("failures", "bound"), [(0, 1.0), (1, 0.0)])
def test_tracker_refuses_nonsense_bounds(failures: int, bound: float) -> None:
    with pytest.raises(ValueError):
        BrokerLossTracker(failures_to_lose=failures, fail_stop_after_s=bound)


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def test_the_watch_fail_stops_once_with_the_reason_after_the_bound() -> None:
    results: Iterator[ProbeResult] = iter([OK, DOWN, DOWN, DOWN, DOWN])
    clock = _Clock()
    stopped: list[str] = []

    async def probe() -> ProbeResult:
        return next(results)

    watch = BrokerWatch(probe, BrokerLossTracker(failures_to_lose=2, fail_stop_after_s=3),
                        now=clock, on_fail_stop=stopped.append)
    seen = []
    for t in (0.0, 1.0, 2.0, 3.0, 4.0):
        clock.t = t
        seen.append(await watch.check_once())
    assert seen == [WatchState.REACHABLE, WatchState.SUSPECT, WatchState.LOST,
                    WatchState.LOST, WatchState.FAILED]
    assert stopped == [DOWN.reason]
    assert watch.lost_reason == DOWN.reason


def test_broker_lost_reason_reads_the_watch_mounted_on_the_app() -> None:
    app = faust.App("broker-watch-unit", broker="kafka://127.0.0.1:1", autodiscover=False)
    other = faust.App("broker-watch-unit-2", broker="kafka://127.0.0.1:1", autodiscover=False)

    async def probe() -> ProbeResult:
        return DOWN

    watch = mount_broker_watch(app, probe, interval_s=1.0, fail_stop_after_s=15)
    assert broker_lost_reason(app) is None
    watch.tracker.observe(DOWN, 0.0)
    watch.tracker.observe(DOWN, 1.0)
    assert broker_lost_reason(app) == DOWN.reason
    assert broker_lost_reason(other) is None  # no watch mounted: nothing known to be lost


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_probe_of_a_closed_port_is_a_failure_naming_the_server() -> None:
    port = _closed_port()
    result = await api_versions_probe(f"127.0.0.1:{port}", 1.0)
    assert not result.ok and not result.fatal
    assert f"127.0.0.1:{port}" in result.reason and "unreachable" in result.reason


async def _serve(handler: object) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)  # type: ignore[arg-type]
    port = server.sockets[0].getsockname()[1]
    return server, f"127.0.0.1:{port}"


async def test_probe_of_a_silent_server_times_out() -> None:
    probed = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        await probed.wait()
        writer.close()
        await writer.wait_closed()

    server, address = await _serve(silent)
    async with server:
        result = await api_versions_probe(address, 0.3)
        probed.set()
        await asyncio.sleep(0.05)
    assert not result.ok and "did not answer within 0.3s" in result.reason


def _answering(error_code: int, echo: bool = True) -> object:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (size,) = struct.unpack(">i", await reader.readexactly(4))
        request = await reader.readexactly(size)
        api_key, version, correlation = struct.unpack(">hhi", request[:8])
        assert (api_key, version) == (18, 0)
        body = struct.pack(">ih", correlation if echo else correlation + 1, error_code)
        body += struct.pack(">i", 0)  # empty api_versions array
        writer.write(struct.pack(">i", len(body)) + body)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    return answer


@pytest.mark.parametrize(("error_code", "echo", "ok"),
                         [(0, True, True), (35, True, False), (0, False, False)])
async def test_probe_reads_the_api_versions_answer(error_code: int, echo: bool,
                                                   ok: bool) -> None:
    server, address = await _serve(_answering(error_code, echo))
    async with server:
        result = await api_versions_probe(address, 2.0)
    assert result.ok is ok
    if not ok:
        assert address in result.reason


async def test_bootstrap_probe_is_ok_while_any_server_answers_and_checks_identity() -> None:
    server, address = await _serve(_answering(0))
    dead = f"127.0.0.1:{_closed_port()}"
    async with server:
        assert (await bootstrap_probe([dead, address], 1.0)()).ok
        both_dead = await bootstrap_probe([dead, dead], 1.0)()
        assert not both_dead.ok and both_dead.reason.count(dead) == 2
        replaced = ProbeResult(False, "embedded broker replaced", fatal=True)
        assert await bootstrap_probe([address], 1.0, lambda: replaced)() == replaced

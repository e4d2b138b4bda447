"""The simulated payment switch: idempotent by key across processes, durable, torn-line safe,
and faulty in a reproducible way."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import Counter
from pathlib import Path

from app.al.executor import ExecutionRequest
from app.al.payment_switch import (
    PaymentSwitch,
    SwitchFault,
    fault_of,
    read_side_effects,
    side_effect_ref_of,
)
from app.al.side_effect_log import LOG_FILE_NAME
from app.profiles.wiring import SimulatedSwitchWiring
from app.rails.action import AttemptResult
from app.rails.decision import ActionType
from app.rails.ids import make_id
from app.rails.reason_codes import ReasonCode
from tests.unit.al.conftest import MakeSwitch


def _request(n: int, attempt: int = 1) -> ExecutionRequest:
    return ExecutionRequest(idempotency_key=make_id("test.key", n),
                            action_type=ActionType.APPROVE_AUTH, subject={"card_id": f"c{n}"},
                            decision_id=make_id("test.decision", n), run_id="0" * 32,
                            attempt=attempt)


async def _answers(switch: PaymentSwitch, requests: list[ExecutionRequest]) -> list:
    return [await answer for answer in await switch.execute(requests)]


async def test_a_key_is_performed_once_and_then_answered_already_done(
        make_switch: MakeSwitch, tmp_path: Path) -> None:
    switch = make_switch()
    first = await _answers(switch, [_request(1), _request(2)])
    again = await _answers(switch, [_request(1, attempt=2), _request(3)])
    assert [(r.result, r.already_done) for r in first] == [(AttemptResult.OK, False)] * 2
    assert again[0].already_done and again[0].reason_code is ReasonCode.ALREADY_EXECUTED
    assert again[0].side_effect_ref == first[0].side_effect_ref == side_effect_ref_of(
        _request(1).idempotency_key)
    assert not again[1].already_done
    effects = read_side_effects(tmp_path / "switch")
    assert [e["idempotency_key"] for e in effects] == [
        _request(n).idempotency_key for n in (1, 2, 3)]
    assert effects[0]["run_id"] == "0" * 32 and effects[0]["action_type"] == "APPROVE_AUTH"


async def test_a_second_switch_on_the_same_log_sees_the_first_ones_side_effects(
        make_switch: MakeSwitch) -> None:
    await _answers(make_switch(), [_request(1)])
    other = make_switch()
    (reply,) = await _answers(other, [_request(1)])
    assert reply.already_done
    assert await other.lookup([_request(1).idempotency_key, _request(9).idempotency_key]) == {
        _request(1).idempotency_key: reply.side_effect_ref}


def _hammer(log_dir: str, order: list[int]) -> list[tuple[str, str, bool]]:
    """One worker process: execute ``order``'s keys in batches of 20 against the shared log."""
    switch = PaymentSwitch(SimulatedSwitchWiring(log_dir=log_dir), Path(log_dir))

    async def run() -> list[tuple[str, str, bool]]:
        out = []
        for start in range(0, len(order), 20):
            batch = [_request(n) for n in order[start:start + 20]]
            for reply in await _answers(switch, batch):
                out.append((reply.idempotency_key, reply.side_effect_ref, reply.already_done))
        return out

    return asyncio.run(run())


def test_two_processes_sharing_the_log_perform_every_key_exactly_once(tmp_path: Path) -> None:
    keys = list(range(300))
    log_dir = str(tmp_path / "switch")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(_hammer, [(log_dir, keys), (log_dir, keys[::-1])])
    performed = Counter(key for result in results for key, _, already in result if not already)
    assert len(performed) == len(keys) and set(performed.values()) == {1}
    refs = {(key, ref) for result in results for key, ref, _ in result}
    assert len(refs) == len(keys)  # both processes were told the same side effect per key
    effects = read_side_effects(log_dir)
    assert len(effects) == len(keys)
    assert len({e["idempotency_key"] for e in effects}) == len(keys)


async def test_a_torn_last_line_is_ignored_and_appends_start_on_a_fresh_line(
        make_switch: MakeSwitch, tmp_path: Path) -> None:
    await _answers(make_switch(), [_request(1)])
    log = tmp_path / "switch" / LOG_FILE_NAME
    torn = b'{"idempotency_key":"' + _request(2).idempotency_key.encode() + b'","side_eff'
    log.write_bytes(log.read_bytes() + torn)  # a writer died mid-line
    assert [e["idempotency_key"] for e in read_side_effects(log.parent)] == [
        _request(1).idempotency_key]
    switch = make_switch()
    assert await switch.lookup([_request(2).idempotency_key]) == {}
    (reply,) = await _answers(switch, [_request(2)])
    assert reply.result is AttemptResult.OK and not reply.already_done  # the torn one never was
    lines = log.read_bytes().split(b"\n")
    assert lines[1] == torn and lines[-1] == b""
    assert [e["idempotency_key"] for e in read_side_effects(log.parent)] == [
        _request(1).idempotency_key, _request(2).idempotency_key]


def test_faults_are_a_pure_function_of_key_and_attempt_at_the_configured_rates() -> None:
    wiring = SimulatedSwitchWiring(transient_error_rate=0.1, timeout_rate=0.1, reject_rate=0.05)
    keys = [make_id("test.key", n) for n in range(4000)]
    faults = [fault_of(wiring, key, 1) for key in keys]
    assert faults == [fault_of(wiring, key, 1) for key in keys]
    share = Counter(faults)
    assert abs(share[SwitchFault.REJECT] / len(keys) - 0.05) < 0.015
    assert abs(share[SwitchFault.ERROR] / len(keys) - 0.095) < 0.02
    lost = share[SwitchFault.LOST] + share[SwitchFault.PERFORMED_LOST]
    assert abs(lost / len(keys) - 0.095) < 0.02 and share[SwitchFault.PERFORMED_LOST] > 0
    rejected = [k for k, f in zip(keys, faults, strict=True) if f is SwitchFault.REJECT]
    assert all(fault_of(wiring, k, 2) is SwitchFault.REJECT for k in rejected)  # per key
    assert {fault_of(SimulatedSwitchWiring(), k, 1) for k in keys} == {SwitchFault.NONE}


async def test_errors_and_rejections_perform_nothing_and_lost_answers_never_resolve(
        make_switch: MakeSwitch, tmp_path: Path) -> None:
    wiring = SimulatedSwitchWiring(transient_error_rate=0.3, timeout_rate=0.3, reject_rate=0.1)
    switch = make_switch(transient_error_rate=0.3, timeout_rate=0.3, reject_rate=0.1)
    requests = [_request(n) for n in range(200)]
    answers = await switch.execute(requests)
    await asyncio.sleep(0)
    logged = {e["idempotency_key"] for e in read_side_effects(tmp_path / "switch")}
    for request, answer in zip(requests, answers, strict=True):
        fault = fault_of(wiring, request.idempotency_key, 1)
        assert asyncio.ensure_future(answer).done() is (
            fault not in (SwitchFault.LOST, SwitchFault.PERFORMED_LOST))
        assert (request.idempotency_key in logged) is (
            fault in (SwitchFault.NONE, SwitchFault.PERFORMED_LOST))
        if fault is SwitchFault.REJECT:
            assert (await answer).result is AttemptResult.REJECTED
        elif fault is SwitchFault.ERROR:
            assert (await answer).result is AttemptResult.ERROR
    for answer in answers:
        asyncio.ensure_future(answer).cancel()

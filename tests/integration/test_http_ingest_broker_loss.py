"""A lost broker under HTTP ingest load: clear 503s at once, no request hangs (issue #11 item 2).

The test runs its own embedded broker (the session's is shared) and stops it while clients
push batches. Every request in flight or sent afterwards must end within its bound with a
documented answer (receipts, 503 ``BUS_UNAVAILABLE`` with ``Retry-After``, or 504
``RECEIPT_TIMEOUT``), a new request is refused 503 within seconds, and the worker then
fail-stops (exit 70) instead of lingering.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from app.eb.embedded_broker import EmbeddedBroker
from app.runtime.fail_stop import FAIL_STOP_EXIT_CODE
from tests.integration.http_raw import API_KEY, Answer, post, start_gate
from tests.integration.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

# send + receipt bounds of the view (wiring defaults 10 s + 30 s) plus slack for the body
REQUEST_BOUND_S = 10 + 30 + 10



def test_issue_11_a_lost_broker_is_a_prompt_503_and_no_request_hangs(
        tiny_world: Path, tmp_path: Path, own_broker: EmbeddedBroker) -> None:
    os.environ["FP_INGEST_API_KEY"] = API_KEY
    (tmp_path / "cluster").mkdir()
    cluster, gate = start_gate(tiny_world, tmp_path / "cluster", own_broker.state_dir)
    answers: list[tuple[float, Answer | BaseException]] = []
    stop = threading.Event()

    def client(index: int) -> None:
        batch = 0
        while not stop.is_set():
            body = b"\n".join(gate.line(index * 100_000 + batch * 50 + i, tag="loss")
                              for i in range(50))
            started = time.monotonic()
            try:
                answer: Answer | BaseException = post(gate.port, body, API_KEY,
                                                      timeout_s=REQUEST_BOUND_S + 20)
            except BaseException as exc:  # a hang shows up as a socket timeout here
                answer = exc
            answers.append((time.monotonic() - started, answer))
            batch += 1

    try:
        first = gate.receipts(post(gate.port, gate.line(0, tag="loss-warm"), API_KEY))
        assert first[0].decision.value == "ADMIT"
        clients = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(4)]
        for thread in clients:
            thread.start()
        wait_for(lambda: (len(answers) >= 8, len(answers)), 60, "ingest load to be answered")

        own_broker.down()
        lost_at = time.monotonic()

        def refused() -> tuple[bool, object]:
            answer = post(gate.port, gate.line(1, tag="loss-after"), API_KEY, timeout_s=20)
            return answer.status == 503, (answer.status, answer.body[:200])

        wait_for(refused, 10, "a new request to be refused 503", interval_s=0.2)
        refused_after_s = time.monotonic() - lost_at
        answer = post(gate.port, gate.line(2, tag="loss-after"), API_KEY, timeout_s=20)
        if answer.status == 503:  # the worker may already have fail-stopped (connection refused)
            assert answer.json()["error"] == "BUS_UNAVAILABLE"
            assert answer.headers.get("retry-after", "").isdigit()

        wait_for(lambda: (gate.worker.exit_code() is not None, gate.worker.exit_code()), 45,
                 "the worker to fail-stop after losing its broker")
        assert gate.worker.exit_code() == FAIL_STOP_EXIT_CODE
        stop.set()
        for thread in clients:
            thread.join(timeout=REQUEST_BOUND_S + 30)
            assert not thread.is_alive(), "a client request hung"
    finally:
        stop.set()
        cluster.stop_all()
        os.environ.pop("FP_INGEST_API_KEY", None)

    kinds = Counter(o.status if isinstance(o, Answer) else type(o).__name__ for _, o in answers)
    print(f"broker lost: refused 503 after {refused_after_s:.1f}s; answers {dict(kinds)}; "
          f"slowest request {max(t for t, _ in answers):.1f}s")
    assert refused_after_s < 5 + 1  # the watch's detection bound, plus one request
    for took, outcome in answers:
        assert took < REQUEST_BOUND_S, (took, outcome)
        if isinstance(outcome, Answer):
            assert outcome.status in (200, 503, 504), (outcome.status, outcome.body[:300])
            if outcome.status != 200:
                assert outcome.json()["error"] in ("BUS_UNAVAILABLE", "RECEIPT_TIMEOUT")
        else:  # the worker exited under a request: the connection ends, it does not hang
            assert isinstance(outcome, ConnectionError | OSError), repr(outcome)

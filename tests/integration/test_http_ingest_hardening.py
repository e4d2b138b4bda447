"""``POST /v1/ingest`` against hostile and careless clients, on a real worker and broker.

Issue #11 items 4-10: a non-ASCII key byte, a 1 MB line, a body over 1 MiB, authentication
before the body, slow bodies and idle connections, duplicate JSON keys, what quarantine
receipts say, and an empty body. Every answer is the documented JSON error or receipts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.eb.embedded_broker import BrokerState
from app.ig.http_ingest import API_KEY_HEADER
from app.rails.canonical_json import sha256_hex
from tests.integration.http_raw import (
    API_KEY,
    BODY_S,
    IDLE_S,
    Answer,
    Gate,
    connect,
    post,
    read_answer,
    request_bytes,
    start_gate,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def gate(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
         embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[Gate]:
    os.environ["FP_INGEST_API_KEY"] = API_KEY
    cluster, state = start_gate(tiny_world, tmp_path_factory.mktemp("http-hardening"),
                                broker_state_dir)
    yield state
    cluster.stop_all()
    os.environ.pop("FP_INGEST_API_KEY", None)


def _error(answer: Answer) -> tuple[int, str]:
    assert answer.headers.get("content-type", "").startswith("application/json"), answer
    return answer.status, answer.json()["error"]


def test_issue_11_item_4_a_non_ascii_key_byte_is_401_not_500(gate: Gate) -> None:
    for key in (API_KEY.encode()[:-1] + b"\xff", "clé".encode(), b"\xc3\x28"):
        assert _error(post(gate.port, gate.line(0), key)) == (401, "AUTH_INVALID")
    assert _error(post(gate.port, gate.line(0), None)) == (401, "AUTH_MISSING")


def test_issue_11_item_5_a_one_megabyte_line_is_quarantined_and_the_others_answered(
        gate: Gate) -> None:
    big = gate.line(1, pad_to=1_100_000)
    lines = [gate.line(2), big, gate.line(3)]
    receipts = gate.receipts(post(gate.port, b"\n".join(lines), API_KEY))
    assert [r.decision.value for r in receipts] == ["ADMIT", "QUARANTINE", "ADMIT"]
    assert receipts[1].reason_codes[0].value == "RECORD_TOO_LARGE"
    assert [r.event_id for r in (receipts[0], receipts[2])] == [
        sha256_hex(b"b-2"), sha256_hex(b"b-3")]


def test_issue_11_item_6_a_body_over_one_mebibyte_within_the_policy_is_admitted(
        gate: Gate) -> None:
    lines = [gate.line(1000 + i, pad_to=1_900) for i in range(700)]
    body = b"\n".join(lines)
    assert len(body) > 1_300_000
    receipts = gate.receipts(post(gate.port, body, API_KEY))
    assert len(receipts) == 700
    assert {r.decision.value for r in receipts} == {"ADMIT"}
    assert [r.event_id for r in receipts] == [sha256_hex(f"b-{1000 + i}".encode())
                                             for i in range(700)]


def test_issue_11_item_6_a_body_over_the_policy_limit_is_the_json_413(gate: Gate) -> None:
    policy = gate.profile.policy.ingest
    limit = policy.max_batch_items * (policy.max_record_bytes + 1)
    with connect(gate.port, 30) as sock:  # declared too large: refused before any body byte
        sock.sendall(request_bytes("/v1/ingest", b"", [(API_KEY_HEADER.encode(),
                                                         API_KEY.encode())],
                                   content_length=limit + 1))
        assert _error(read_answer(sock)) == (413, "BATCH_TOO_LARGE")
    chunk = b"x" * (1 << 20)
    with connect(gate.port, 60) as sock:  # chunked, no length: refused once over the limit
        sock.sendall(request_bytes("/v1/ingest", b"", [
            (API_KEY_HEADER.encode(), API_KEY.encode()),
            (b"Transfer-Encoding", b"chunked")], content_length=-1))
        sent = 0
        try:
            while sent <= limit + len(chunk):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: read what it said
        assert _error(read_answer(sock)) == (413, "BATCH_TOO_LARGE")


def test_issue_11_item_7_authentication_comes_before_the_body(gate: Gate) -> None:
    with connect(gate.port, 10) as sock:
        # Declares 50 MB and sends none of it: a wrong key is refused without waiting for it.
        sock.sendall(request_bytes("/v1/ingest", b"", [(API_KEY_HEADER.encode(), b"wrong")],
                                   content_length=50_000_000))
        assert _error(read_answer(sock)) == (401, "AUTH_INVALID")
        assert sock.recv(1024) == b""  # and the connection is closed (after a short drain)


def test_issue_11_item_7_a_slow_body_is_a_json_408_within_the_bound(gate: Gate) -> None:
    with connect(gate.port, BODY_S + 20) as sock:
        sock.sendall(request_bytes("/v1/ingest", b'{"event', [(API_KEY_HEADER.encode(),
                                                               API_KEY.encode())],
                                   content_length=5000))
        started = time.monotonic()
        answer = read_answer(sock)
        waited = time.monotonic() - started
    assert _error(answer) == (408, "BODY_READ_TIMEOUT")
    assert waited < BODY_S + 10


def test_issue_11_item_7_idle_and_trickling_connections_are_closed(gate: Gate) -> None:
    with connect(gate.port, IDLE_S + 20) as sock:  # never sends a byte
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < IDLE_S + 10
    with connect(gate.port, IDLE_S + 20) as sock:  # headers one byte at a time (slow-loris)
        started = time.monotonic()
        closed = False
        for byte in b"POST /v1/ingest HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.5)
            if time.monotonic() - started > IDLE_S + 10:
                break
        if not closed:
            sock.settimeout(5)
            try:
                closed = sock.recv(1024) == b""
            except ConnectionResetError:
                closed = True
        assert closed, "a connection trickling its headers was kept open"
        assert time.monotonic() - started < IDLE_S + 12


def test_issue_11_item_8_duplicate_keys_are_quarantined_with_their_path(gate: Gate) -> None:
    raw = gate.line(5).replace(b'"amount_minor":1001', b'"amount_minor":100,"amount_minor":9999')
    top = b'{"seed":1,' + gate.line(6)[1:]
    receipts = gate.receipts(post(gate.port, raw + b"\n" + top, API_KEY))
    assert [(r.decision.value, r.reason_codes[0].value) for r in receipts] == [
        ("QUARANTINE", "DUPLICATE_JSON_KEY")] * 2
    assert [r.field_paths for r in receipts] == [("payload.amount_minor",), ("seed",)]
    assert all(r.eb_ref is None for r in receipts)


def test_issue_11_item_9_quarantine_receipts_name_the_fields_and_why(gate: Gate) -> None:
    bad_amount = gate.line(7).replace(b'"amount_minor":1001', b'"amount_minor":"1001"')
    bad_seed = gate.line(8).replace(b'"seed":%d' % gate.seed, b'"seed":"x"')
    receipts = gate.receipts(post(gate.port, bad_amount + b"\n" + bad_seed, API_KEY))
    assert [r.reason_codes[0].value for r in receipts] == ["PAYLOAD_SCHEMA_INVALID",
                                                           "ENVELOPE_INVALID"]
    assert receipts[0].field_paths == ("payload.amount_minor",)
    assert receipts[1].field_paths == ("seed",)
    assert all(r.detail for r in receipts)


def test_issue_11_item_10_an_empty_body_is_a_400(gate: Gate) -> None:
    for body in (b"", b"\n\n  \r\n"):
        assert _error(post(gate.port, body, API_KEY)) == (400, "BATCH_EMPTY")


def test_issue_11_an_expect_header_is_answered_after_the_key_and_never_a_500(gate: Gate) -> None:
    for value in (b"\xe9t\xe9", b"something-else"):  # aiohttp's default answered 500 to the first
        answer = post(gate.port, gate.line(0), API_KEY, extra=[(b"Expect", value)])
        assert _error(answer) == (417, "EXPECT_UNSUPPORTED")
    with connect(gate.port, 10) as sock:  # a wrong key is refused before "100 Continue"
        sock.sendall(request_bytes("/v1/ingest", b"", [(API_KEY_HEADER.encode(), b"wrong"),
                                                      (b"Expect", b"100-continue")],
                                   content_length=10_000))
        assert _error(read_answer(sock)) == (401, "AUTH_INVALID")
    with connect(gate.port, 30) as sock:  # the right key gets "100 Continue", then receipts
        line = gate.line(40)
        sock.sendall(request_bytes("/v1/ingest", b"", [(API_KEY_HEADER.encode(), API_KEY.encode()),
                                                      (b"Expect", b"100-continue")],
                                   content_length=len(line)))
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(line)
        assert [r.decision.value for r in gate.receipts(read_answer(sock))] == ["ADMIT"]

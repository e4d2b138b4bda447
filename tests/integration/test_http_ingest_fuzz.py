"""Hypothesis fuzz of ``POST /v1/ingest`` on a running worker with its broker up (issue #11).

Named predicates, checked on every generated request (headers and NDJSON bodies of valid,
mutated, duplicated-key, oversize and garbage lines):

- ``never_a_server_error``: no answer is 5xx while the broker is up;
- ``refusals_are_documented``: a refusal by the ingest view is its JSON error with a code;
- ``one_receipt_per_line_in_order``: an accepted body gets exactly one receipt per non-blank
  line, in the order of the lines (a valid line's receipt names its event; garbage is
  QUARANTINE).

The worker's policy shrinks ``max_record_bytes`` so oversize lines are cheap to generate.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.eb.embedded_broker import BrokerState
from app.ig.http_ingest import API_KEY_HEADER
from app.rails.receipts import IngestionReceipt
from tests.integration.http_raw import API_KEY, Answer, Gate, post, start_gate

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

MAX_RECORD_BYTES = 4096
JSON_ERRORS = {400, 401, 408, 413, 417}
INT64 = st.integers(-(2**63), 2**63 - 1)  # what a JSON writer can put in a line


@pytest.fixture(scope="module")
def gate(tiny_world: Path, tmp_path_factory: pytest.TempPathFactory,
         embedded_broker: BrokerState, broker_state_dir: Path) -> Iterator[Gate]:
    os.environ["FP_INGEST_API_KEY"] = API_KEY
    cluster, state = start_gate(tiny_world, tmp_path_factory.mktemp("http-fuzz"),
                                broker_state_dir,
                                policy_patch={"ingest": {"max_record_bytes": MAX_RECORD_BYTES}})
    yield state
    cluster.stop_all()
    os.environ.pop("FP_INGEST_API_KEY", None)


# -- what a request is made of --------------------------------------------------------------

HEADER_BYTES = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-ABCXYZ0123456789", min_size=1, max_size=20)
KEYS = st.one_of(st.just(API_KEY.encode()), st.just(API_KEY.encode()), st.just(None),
                 HEADER_BYTES, st.just(API_KEY.encode() + b"\xff"),
                 st.just(API_KEY.encode().upper()))
EXTRA_HEADERS = st.lists(st.one_of(
    st.tuples(TOKEN.map(str.encode), HEADER_BYTES),
    st.tuples(st.sampled_from([b"Content-Type", b"Accept", b"Content-Encoding", b"Expect",
                               b"X-FP-Api-Key", b"Accept-Encoding"]),
              st.sampled_from([b"application/x-ndjson", b"gzip", b"deflate", b"identity",
                               b"100-continue", b"", b"\xe9t\xe9", b"text/plain; charset=utf-8"])),
), max_size=4)


def _mutations(line: bytes) -> st.SearchStrategy[bytes]:
    body = orjson.loads(line)
    return st.one_of(
        st.just(line),
        st.sampled_from(sorted(body)).map(
            lambda k: orjson.dumps({n: v for n, v in body.items() if n != k})),
        st.sampled_from(sorted(body)).map(lambda k: b'{"' + k.encode() + b'":0,' + line[1:]),
        st.tuples(st.sampled_from(sorted(body["payload"])),
                  st.one_of(st.none(), INT64, st.text(max_size=5), st.floats(),
                            st.lists(INT64, max_size=2))).map(
            lambda kv: orjson.dumps({**body, "payload": {**body["payload"], kv[0]: kv[1]}})),
        st.integers(min_value=1, max_value=len(line) - 1).map(lambda n: line[:n]),
        st.just(line.replace(b"{", b"{" + b" " * (MAX_RECORD_BYTES + 10), 1)),  # oversize
    )


@st.composite
def lines(draw: Any, gate: Gate) -> bytes:
    kind = draw(st.sampled_from(["valid", "mutated", "garbage", "json"]))
    if kind == "valid":
        return gate.line(draw(st.integers(0, 30)), tag="fuzz")
    if kind == "mutated":
        return draw(_mutations(gate.line(draw(st.integers(0, 30)), tag="fuzz")))
    if kind == "json":
        return orjson.dumps(draw(st.recursive(
            st.none() | st.booleans() | INT64 | st.text(max_size=6),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                st.text(max_size=4), inner, max_size=3), max_leaves=8)))
    return draw(st.binary(min_size=1, max_size=60))


@st.composite
def requests(draw: Any, gate: Gate) -> tuple[bytes | None, list[tuple[bytes, bytes]], bytes,
                                            list[bytes]]:
    items = draw(st.lists(lines(gate), max_size=8))
    items = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in items]
    separators = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\n\n", b"\n \n"]),
                               min_size=len(items), max_size=len(items)))
    body = b"".join(item + sep for item, sep in zip(items, separators, strict=True))
    headers = draw(EXTRA_HEADERS)
    if draw(st.booleans()) and not any(n.lower() == b"content-encoding" for n, _ in headers):
        body = gzip.compress(body)
        headers.append((b"Content-Encoding", b"gzip"))
    return draw(KEYS), headers, body, [i for i in items if i.strip()]


# -- the predicates -------------------------------------------------------------------------

def never_a_server_error(answer: Answer) -> bool:
    return answer.status < 500


def refusals_are_documented(answer: Answer) -> bool:
    if answer.status == 200 or not answer.headers.get("content-type", "").startswith(
            "application/json"):
        return True  # a request aiohttp refused before the view (malformed headers): not ours
    return answer.status in JSON_ERRORS and isinstance(answer.json().get("error"), str)


def one_receipt_per_line_in_order(answer: Answer, items: list[bytes]) -> bool:
    if answer.status != 200:
        return True
    receipts = [IngestionReceipt.model_validate(r) for r in answer.json()["receipts"]]
    if len(receipts) != len(items):
        return False
    for line, receipt in zip(items, receipts, strict=True):
        try:
            named = orjson.loads(line)
        except orjson.JSONDecodeError:
            if receipt.decision.value != "QUARANTINE":
                return False
            continue
        event_id = named.get("event_id") if isinstance(named, dict) else None
        if receipt.event_id is not None and receipt.event_id != event_id:
            return False
    return True


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_fuzzed_requests_never_get_a_5xx_and_every_line_gets_one_receipt(
        gate: Gate, data: st.DataObject) -> None:
    key, headers, body, items = data.draw(requests(gate))
    if any(n.lower() == API_KEY_HEADER.lower().encode() for n, _ in headers):
        key = None  # one key header per request: which one counts is not what this checks
    answer = post(gate.port, body, key, extra=headers, timeout_s=60)
    event(f"HTTP {answer.status}")
    if answer.status == 200:
        for receipt in answer.json()["receipts"]:
            event(f"receipt {receipt['decision']} {','.join(receipt['reason_codes'])}")
    assert never_a_server_error(answer), (answer.status, answer.body[:300])
    assert refusals_are_documented(answer), (answer.status, answer.body[:300])
    if any(n.lower() == b"content-encoding" and v.strip().lower() not in (b"gzip", b"identity")
           for n, v in headers):
        return  # the body is not in the encoding it claims: the line count is not ours to know
    assert one_receipt_per_line_in_order(answer, items), (items, answer.body[:2000])

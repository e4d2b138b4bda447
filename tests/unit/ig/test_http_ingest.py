"""The HTTP push path's pure parts: key check, limits, ingress records (issue #11 items 4-6, 10)."""

from __future__ import annotations

import pytest

from app.ig.http_ingest import (
    API_KEY_HEADER,
    HttpRefusal,
    authenticate,
    body_limit,
    check_declared_size,
    ingress_key,
    ingress_records,
    split_items,
)
from app.ig.oversize import OVERSIZE_HEADER, oversize_marker, oversize_quarantine
from app.rails.canonical_json import sha256_hex
from app.rails.envelope import EnvelopeRejection, parse_envelope
from app.rails.reason_codes import ReasonCode
from tests.factories import make_envelope_bytes

KEY = "k" * 24
PRECEDENCE = ("card_id", "account_id")


def _code(refusal: HttpRefusal | None) -> tuple[int, ReasonCode] | None:
    return None if refusal is None else (refusal.status, refusal.reason_code)


@pytest.mark.parametrize("presented", [
    "k" * 23 + "\udcff",          # a non-UTF-8 byte, as aiohttp hands it over (surrogate escape)
    "k" * 23 + "é",               # non-ASCII
    "k" * 23 + "\x00",            # a control character
    "ключ",
])
def test_issue_11_a_non_ascii_or_undecodable_key_is_auth_invalid_never_an_error(
        presented: str) -> None:
    assert _code(authenticate(presented, KEY)) == (401, ReasonCode.AUTH_INVALID)


def test_the_key_check_answers_each_case_with_its_code() -> None:
    assert authenticate(KEY, KEY) is None
    assert _code(authenticate(None, KEY)) == (401, ReasonCode.AUTH_MISSING)
    assert _code(authenticate("", KEY)) == (401, ReasonCode.AUTH_MISSING)
    assert _code(authenticate(KEY + "x", KEY)) == (401, ReasonCode.AUTH_INVALID)
    assert _code(authenticate(KEY, None)) == (503, ReasonCode.INGEST_KEY_UNSET)
    refusal = authenticate(None, KEY)
    assert refusal is not None
    assert refusal.body() == {"error": "AUTH_MISSING", "detail": f"missing {API_KEY_HEADER} header"}


def test_issue_11_the_body_limit_is_the_policys_not_one_mebibyte() -> None:
    limit = body_limit(1000, 65536)
    assert limit == 1000 * 65537 > 1_300_000  # 700 lines of ~1.9 kB fit easily
    assert check_declared_size(1_300_000, limit) is None
    assert check_declared_size(None, limit) is None  # chunked: the read enforces it
    assert _code(check_declared_size(limit + 1, limit)) == (413, ReasonCode.BATCH_TOO_LARGE)


def test_issue_11_an_empty_body_or_only_blank_lines_is_a_400() -> None:
    for body in (b"", b"\n", b"  \n\r\n\t\n"):
        refusal = split_items(body, 10)
        assert isinstance(refusal, HttpRefusal)
        assert _code(refusal) == (400, ReasonCode.BATCH_EMPTY)


def test_items_are_the_non_blank_lines_in_order_and_too_many_is_413() -> None:
    assert split_items(b"a\n\nb\r\n  \nc", 3) == [b"a", b"b\r", b"c"]
    refusal = split_items(b"a\nb\nc\nd", 3)
    assert isinstance(refusal, HttpRefusal)
    assert _code(refusal) == (413, ReasonCode.BATCH_TOO_LARGE)


def test_ingress_key_never_raises_on_hostile_lines() -> None:
    for line in (b"\xff\xfe", b'{"event_id": 5}', b'{"event_id":"e","payload":[1]}', b"[]",
                 b'{"event_id":"e","payload":{"card_id":{"x":1}}}', b"1e999999"):
        assert ingress_key(line, PRECEDENCE)
    good = make_envelope_bytes()
    assert ingress_key(good, PRECEDENCE).startswith(b"card_id:")


def test_issue_11_a_line_over_the_record_limit_is_queued_as_a_bounded_marker() -> None:
    big = b'{"payload":"' + b"x" * 5000 + b'"}'
    small = make_envelope_bytes()
    records = ingress_records([small, big, small], 1024, PRECEDENCE)
    assert [r.value for r in (records[0], records[2])] == [small, small]
    marker = records[1]
    assert marker.value == big[:1025]  # over the limit on its own: any IG quarantines it
    assert marker.headers == {OVERSIZE_HEADER: f"{len(big)}:{sha256_hex(big)}".encode()}
    assert oversize_marker(small, len(small)) is None
    rejection = parse_envelope(marker.value, max_bytes=1024)
    assert isinstance(rejection, EnvelopeRejection)
    assert rejection.reason_code is ReasonCode.RECORD_TOO_LARGE


def test_ig_takes_the_marker_header_as_the_whole_lines_identity() -> None:
    big = b"y" * 4000
    value, header = oversize_marker(big, 1024) or (b"", b"")
    decision = oversize_quarantine([(OVERSIZE_HEADER, header)], value, 1024)
    assert decision is not None
    assert decision.reason_code is ReasonCode.RECORD_TOO_LARGE
    assert decision.raw_digest.hex == sha256_hex(big)
    assert "4000 bytes > limit 1024" in decision.detail
    assert oversize_quarantine({OVERSIZE_HEADER: header}, value, 1024) == decision


@pytest.mark.parametrize("headers, value", [
    (None, b"z" * 2000),
    ([("other", b"1")], b"z" * 2000),
    ([(OVERSIZE_HEADER, b"not-a-size")], b"z" * 2000),
    ([(OVERSIZE_HEADER, b"1500:" + b"a" * 64)], b"z" * 2000),   # claims less than IG holds
    ([(OVERSIZE_HEADER, b"5000:" + b"a" * 64)], b"z" * 100),    # bytes within the limit
])
def test_a_marker_header_that_disagrees_with_the_bytes_is_ignored(
        headers: list[tuple[str, bytes]] | None, value: bytes) -> None:
    assert oversize_quarantine(headers, value, 1024) is None

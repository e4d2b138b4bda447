"""The HTTP push path into IG: authentication, batch limits, and ingress keys (pure parts).

Outside producers ``POST /v1/ingest`` an NDJSON body (one raw submission per line) with the API
key in ``X-FP-API-Key``. Accepted items are queued on ``fp.ig.ingress.v1`` exactly like WSP's,
and the response carries IG's receipt for each item, in order: HTTP never bypasses the gate.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from app.rails.canonical_json import sha256_hex
from app.rails.partition_key import partition_key_bytes, partition_key_of
from app.rails.reason_codes import ReasonCode

__all__ = ["API_KEY_HEADER", "HttpRefusal", "check_request", "ingress_key", "split_items"]

API_KEY_HEADER = "X-FP-API-Key"


@dataclass(frozen=True)
class HttpRefusal:
    """A whole-request refusal: HTTP status plus a stable reason code."""

    status: int
    reason_code: ReasonCode | str
    detail: str


def check_request(presented: str | None, expected: str | None, body_bytes: int,
                  max_body_bytes: int) -> HttpRefusal | None:
    """Authenticate and size-check a request before reading its items."""
    if not expected:
        return HttpRefusal(503, "INGEST_KEY_UNSET",
                           "the ingest API key is not configured on this worker")
    if not presented:
        return HttpRefusal(401, ReasonCode.AUTH_MISSING, f"missing {API_KEY_HEADER} header")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        return HttpRefusal(401, ReasonCode.AUTH_INVALID, "API key not accepted")
    if body_bytes > max_body_bytes:
        return HttpRefusal(413, ReasonCode.BATCH_TOO_LARGE,
                           f"body of {body_bytes} bytes exceeds {max_body_bytes}")
    return None


def split_items(body: bytes, max_items: int) -> list[bytes] | HttpRefusal:
    """NDJSON lines (blank lines ignored); 413 when there are more than ``max_items``."""
    items = [line for line in body.split(b"\n") if line.strip()]
    if len(items) > max_items:
        return HttpRefusal(413, ReasonCode.BATCH_TOO_LARGE,
                           f"{len(items)} items exceed the batch limit of {max_items}")
    return items


def ingress_key(raw: bytes, precedence: Sequence[str]) -> bytes:
    """The ingress record key: the partition key IG will stamp when the item names an event
    (so it shares an IG partition with WSP's rows of the same entity), else its digest."""
    try:
        body = orjson.loads(raw)
        if isinstance(body, dict) and isinstance(body.get("event_id"), str) and body["event_id"]:
            return partition_key_bytes(partition_key_of(body.get("payload"), body["event_id"],
                                                        precedence))
    except orjson.JSONDecodeError:
        pass
    return b"unparsed|" + sha256_hex(raw).encode()

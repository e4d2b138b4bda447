"""The HTTP push path into IG: authentication, body and batch limits, ingress records (pure parts).

Outside producers ``POST /v1/ingest`` an NDJSON body (one raw submission per line) with the API
key in ``X-FP-API-Key``. Accepted items are queued on ``fp.ig.ingress.v1`` exactly like WSP's,
and the response carries IG's receipt for each item, in order: HTTP never bypasses the gate.

Whole-request refusals are :class:`HttpRefusal` (status + stable reason code + detail, answered
as the JSON error ``{"error": <code>, "detail": <text>}``). The order is fixed so a refusal costs
as little as possible: the key (from the headers, before any body byte is read), then the
declared body size, then the body itself (read with the policy's limit), then the batch.
A single bad *line* is never a whole-request refusal: it is queued and IG quarantines it.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from app.ig.oversize import OVERSIZE_HEADER, oversize_marker
from app.rails.canonical_json import sha256_hex
from app.rails.partition_key import partition_key_bytes, partition_key_of
from app.rails.reason_codes import ReasonCode

__all__ = [
    "API_KEY_HEADER",
    "HttpRefusal",
    "IngressRecord",
    "authenticate",
    "body_limit",
    "check_declared_size",
    "check_request",
    "ingress_key",
    "ingress_records",
    "split_items",
]

API_KEY_HEADER = "X-FP-API-Key"


@dataclass(frozen=True)
class HttpRefusal:
    """A whole-request refusal: HTTP status plus a stable reason code."""

    status: int
    reason_code: ReasonCode
    detail: str

    def body(self) -> dict[str, str]:
        """The documented JSON error body."""
        return {"error": self.reason_code.value, "detail": self.detail}


@dataclass(frozen=True)
class IngressRecord:
    """What the view queues on the ingress topic for one line."""

    key: bytes
    value: bytes
    headers: dict[str, bytes] | None = None


def body_limit(max_batch_items: int, max_record_bytes: int) -> int:
    """Largest body accepted, in bytes: a full batch of records at the size limit, newlines
    included. Larger lines still fit in it one by one (each is quarantined on its own)."""
    return max_batch_items * (max_record_bytes + 1)


def authenticate(presented: str | None, expected: str | None) -> HttpRefusal | None:
    """Check the API key from the request headers; None when accepted.

    A key is printable ASCII: anything else (a non-ASCII or undecodable byte, which aiohttp
    hands over as a surrogate escape) is AUTH_INVALID, compared without ever raising.
    """
    if not expected:
        return HttpRefusal(503, ReasonCode.INGEST_KEY_UNSET,
                           "the ingest API key is not configured on this worker")
    if not presented:
        return HttpRefusal(401, ReasonCode.AUTH_MISSING, f"missing {API_KEY_HEADER} header")
    if not (presented.isascii() and presented.isprintable()):
        return HttpRefusal(401, ReasonCode.AUTH_INVALID, "API key not accepted")
    if not hmac.compare_digest(presented.encode("ascii"), expected.encode("utf-8")):
        return HttpRefusal(401, ReasonCode.AUTH_INVALID, "API key not accepted")
    return None


def check_declared_size(content_length: int | None, max_body_bytes: int) -> HttpRefusal | None:
    """413 at once when the declared ``Content-Length`` is over the limit (nothing is read)."""
    if content_length is not None and content_length > max_body_bytes:
        return too_large(content_length, max_body_bytes)
    return None


def too_large(body_bytes: int, max_body_bytes: int) -> HttpRefusal:
    return HttpRefusal(413, ReasonCode.BATCH_TOO_LARGE,
                       f"body of {'over ' if body_bytes > max_body_bytes else ''}{body_bytes} "
                       f"bytes exceeds the limit of {max_body_bytes} bytes")


def check_request(presented: str | None, expected: str | None, body_bytes: int,
                  max_body_bytes: int) -> HttpRefusal | None:
    """Authenticate, then size-check a body of ``body_bytes`` (tools that hold a whole body)."""
    return authenticate(presented, expected) or check_declared_size(body_bytes, max_body_bytes)


def split_items(body: bytes, max_items: int) -> list[bytes] | HttpRefusal:
    """NDJSON lines (blank lines ignored); 400 when there are none, 413 over ``max_items``."""
    items = [line for line in body.split(b"\n") if line.strip()]
    if not items:
        return HttpRefusal(400, ReasonCode.BATCH_EMPTY,
                           "the body holds no record: send one JSON envelope per line")
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
    except (orjson.JSONDecodeError, UnicodeError):
        pass
    return b"unparsed|" + sha256_hex(raw).encode()


def ingress_records(items: Sequence[bytes], max_record_bytes: int,
                    precedence: Sequence[str]) -> list[IngressRecord]:
    """One ingress record per line, in order; a line over the size limit becomes its bounded
    marker (:mod:`app.ig.oversize`), so a client's line never reaches the producer's limit."""
    records = []
    for line in items:
        marker = oversize_marker(line, max_record_bytes)
        if marker is None:
            records.append(IngressRecord(ingress_key(line, precedence), line))
        else:
            prefix, header = marker
            records.append(IngressRecord(b"oversize|" + header.split(b":")[1], prefix,
                                         {OVERSIZE_HEADER: header}))
    return records

"""HTTP lines over the record size limit: queued as a bounded marker, quarantined by IG.

A client's NDJSON line can be far larger than the producer may send (Kafka's ~1 MiB
``max.request.size``): sending it would fail inside the HTTP request (a 500, and the batch's
other items without their receipts). IG would quarantine it ``RECORD_TOO_LARGE`` anyway, so the
HTTP view never sends more than ``max_record_bytes + 1`` bytes of a line: it queues the line's
first ``max_record_bytes + 1`` bytes (still over the limit, so *any* IG quarantines the record
``RECORD_TOO_LARGE`` from the bytes alone) with the Kafka header ``fp-ig-oversize:
<size>:<sha256 hex>`` naming the whole line. HTTP clients cannot set Kafka headers, so only the
platform can claim one. The marker travels the ingress topic like any item, so its receipt is
durable, written by IG, and answered in order with the others.

:func:`oversize_quarantine` is the pure part IG applies to a record carrying the header: the
receipt then identifies the whole line (its digest and size), and the quarantine store keeps the
prefix it holds (``retained: PREFIX``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from app.ig.admission import Quarantine
from app.rails.canonical_json import sha256_hex
from app.rails.digests import Digest
from app.rails.reason_codes import ReasonCode

__all__ = ["OVERSIZE_HEADER", "oversize_marker", "oversize_quarantine"]

OVERSIZE_HEADER = "fp-ig-oversize"
_HEADER_VALUE = re.compile(rb"^([1-9][0-9]{0,15}):([0-9a-f]{64})$")


def oversize_marker(line: bytes, max_record_bytes: int) -> tuple[bytes, bytes] | None:
    """``(value, header value)`` to queue instead of ``line``; None if the line fits the limit."""
    if len(line) <= max_record_bytes:
        return None
    return line[: max_record_bytes + 1], f"{len(line)}:{sha256_hex(line)}".encode()


def _header(headers: Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None) -> bytes | None:
    if not headers:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        if name == OVERSIZE_HEADER:
            return bytes(value) if value is not None else None
    return None


def oversize_quarantine(headers: Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None,
                        raw: bytes, max_record_bytes: int) -> Quarantine | None:
    """IG's decision for an ingress record carrying ``fp-ig-oversize`` (None: no valid header).

    The header is only believed when it agrees with the bytes: ``raw`` must be over the limit,
    no longer than the size claimed, and the line's own prefix is all IG ever sees. A header
    that does not parse is ignored (the record is then judged from its bytes, which are over
    the limit anyway).
    """
    value = _header(headers)
    if value is None:
        return None
    match = _HEADER_VALUE.match(value)
    if match is None:
        return None
    size = int(match.group(1))
    if len(raw) <= max_record_bytes or len(raw) > size:
        return None
    return Quarantine(
        reason_code=ReasonCode.RECORD_TOO_LARGE,
        raw_digest=Digest(algo="sha256", hex=match.group(2).decode()),
        detail=f"{size} bytes > limit {max_record_bytes}; the first {len(raw)} bytes are kept",
    )

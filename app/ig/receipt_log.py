"""Append-only receipt segments in the object store (``ig/receipts/``).

One segment per processed batch and ingress partition:
``ig/receipts/p<partition:03d>/<first_offset:012d>-<last_offset:012d>-<sha256[:16]>.jsonl``
(canonical JSON, one receipt per line). The content digest in the name keeps segments
create-only when a batch is re-processed after a crash (same offsets, other content); readers
dedupe receipts on ``receipt_id`` (the first one wins).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.objectstore.base import ObjectStore
from app.rails.canonical_json import canonical_dumps, canonical_loads, sha256_hex
from app.rails.receipts import IngestionReceipt

__all__ = ["RECEIPTS_PREFIX", "read_receipts", "write_segment"]

RECEIPTS_PREFIX = "ig/receipts"


async def write_segment(store: ObjectStore, partition: int, first_offset: int, last_offset: int,
                        receipts: Iterable[IngestionReceipt]) -> str:
    """Write one segment; returns its key."""
    body = b"\n".join(canonical_dumps(r.model_dump(mode="json")) for r in receipts) + b"\n"
    key = (f"{RECEIPTS_PREFIX}/p{partition:03d}/{first_offset:012d}-{last_offset:012d}-"
           f"{sha256_hex(body)[:16]}.jsonl")
    await store.put(key, body)
    return key


async def read_receipts(store: ObjectStore) -> list[IngestionReceipt]:
    """Every receipt ever written, deduplicated on ``receipt_id`` (segment order)."""
    seen: dict[str, IngestionReceipt] = {}
    for key in await store.list(RECEIPTS_PREFIX):
        for line in (await store.get(key)).splitlines():
            if line:
                receipt = IngestionReceipt.model_validate(canonical_loads(line))
                seen.setdefault(receipt.receipt_id, receipt)
    return list(seen.values())

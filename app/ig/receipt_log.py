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
from app.rails.receipts import IngestionReceipt, ReceiptDecision

__all__ = ["RECEIPTS_PREFIX", "ReceiptFollower", "admitted_receipt_ids", "read_receipts",
           "write_segment"]

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
    return await ReceiptFollower().poll(store)


async def admitted_receipt_ids(store: ObjectStore, partition: int) -> set[str]:
    """``receipt_id`` of every ADMIT receipt in ingress partition ``partition``'s segments.

    Linear in that partition's receipt history: only a restore from the archive calls it.
    """
    ids: set[str] = set()
    for key in await store.list(f"{RECEIPTS_PREFIX}/p{partition:03d}"):
        for line in (await store.get(key)).splitlines():
            if line:
                body = canonical_loads(line)
                if body.get("decision") == ReceiptDecision.ADMIT.value:
                    ids.add(str(body["receipt_id"]))
    return ids


class ReceiptFollower:
    """Reads receipts incrementally: each :meth:`poll` reads only segments it has not read.

    Segments are create-only, so a segment once read never changes; progress displays poll
    every second and must not re-read (and re-validate) the whole history each time.
    """

    def __init__(self) -> None:
        self._read_keys: set[str] = set()
        self._receipt_ids: set[str] = set()

    async def poll(self, store: ObjectStore) -> list[IngestionReceipt]:
        """Receipts of the segments written since the last poll, new ``receipt_id``s only."""
        fresh: list[IngestionReceipt] = []
        for key in await store.list(RECEIPTS_PREFIX):
            if key in self._read_keys:
                continue
            for line in (await store.get(key)).splitlines():
                if line:
                    receipt = IngestionReceipt.model_validate(canonical_loads(line))
                    if receipt.receipt_id not in self._receipt_ids:
                        self._receipt_ids.add(receipt.receipt_id)
                        fresh.append(receipt)
            self._read_keys.add(key)
        return fresh

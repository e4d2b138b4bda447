"""Quarantined raw bytes, kept by reference in the object store under ``ig/quarantine/``.

Keys are content-addressed (``ig/quarantine/<run_id or _unparsed>/<sha256>.bin``): quarantining the
same bytes twice is a create-only no-op. These objects may hold sensitive raw data; the
``sensitive`` marker lives in their manifest listing (``fp ig quarantine list``).
"""

from __future__ import annotations

from app.ig.admission import Quarantine
from app.objectstore.base import ObjectStore
from app.rails.receipts import QuarantineRef

__all__ = ["QUARANTINE_PREFIX", "quarantine_key", "store_quarantined"]

QUARANTINE_PREFIX = "ig/quarantine"


def quarantine_key(decision: Quarantine) -> str:
    """Object key of a quarantined submission's raw bytes."""
    owner = decision.envelope.run_id if decision.envelope is not None else "_unparsed"
    return f"{QUARANTINE_PREFIX}/{owner}/{decision.raw_digest.hex}.bin"


async def store_quarantined(store: ObjectStore, decision: Quarantine, raw: bytes) -> QuarantineRef:
    """Write the raw bytes (idempotently) and return the reference a receipt carries."""
    ref = await store.put(quarantine_key(decision), raw)
    return QuarantineRef(object_key=ref.key, digest=ref.digest)

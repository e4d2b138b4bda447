"""Quarantined raw bytes, kept by reference in the object store under ``ig/quarantine/``.

Keys are content-addressed (``ig/quarantine/<run_id or _unparsed>/<sha256>.bin``): quarantining the
same bytes twice is a create-only no-op. These objects may hold sensitive raw data; the
``sensitive`` marker lives in their manifest listing (``fp ig quarantine list``).

Storage is bounded (issue #11 item 10) by :class:`QuarantineQuota`: per ingress partition, each
window of ``window_records`` ingress offsets may keep at most ``max_bytes`` of quarantined bytes.
Past it the receipt is still written, with ``retained: NONE`` and the reason
``QUARANTINE_QUOTA_EXCEEDED``: a flood of bad input costs receipts, never unbounded storage, and
nothing already accepted is lost. The window is counted in ingress *offsets*, not wall time, so
the same ingress log keeps the same bytes (deterministic); the count lives in memory, so a
restart or a partition moving mid-window starts that window's count again (a bound of twice the
quota per window, never a missing receipt).

A submission whose receipt identity is not the bytes IG holds (an HTTP line over the record size
limit arrives as its first ``max_record_bytes + 1`` bytes, see :mod:`app.ig.oversize`) keeps that
prefix (``retained: PREFIX``); its digest is the stored prefix's, so the reference stays verifiable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.ig.admission import Quarantine
from app.objectstore.base import ObjectStore
from app.rails.digests import digest_bytes
from app.rails.receipts import QuarantineRef, QuarantineRetention

__all__ = ["QUARANTINE_PREFIX", "QuarantineQuota", "quarantine_key", "store_quarantined"]

QUARANTINE_PREFIX = "ig/quarantine"


def quarantine_key(decision: Quarantine, content_hex: str | None = None) -> str:
    """Object key of a quarantined submission's raw bytes (``content_hex``: of other bytes)."""
    owner = decision.envelope.run_id if decision.envelope is not None else "_unparsed"
    return f"{QUARANTINE_PREFIX}/{owner}/{content_hex or decision.raw_digest.hex}.bin"


@dataclass
class QuarantineQuota:
    """Bytes of quarantined raw data kept per ingress partition and window of ingress offsets.

    Pure bookkeeping (no I/O, no clock): ``charge`` says whether ``size_bytes`` more may be kept
    for the record at ``(partition, offset)`` and, if so, counts them. Only the current window of
    each partition is remembered, so memory stays constant.
    """

    max_bytes: int
    window_records: int
    _used: dict[int, tuple[int, int]] = field(default_factory=dict)  # partition -> (window, bytes)

    def __post_init__(self) -> None:
        if self.max_bytes < 0 or self.window_records <= 0:
            raise ValueError("max_bytes >= 0 and window_records > 0 are required")

    def charge(self, partition: int, offset: int, size_bytes: int) -> bool:
        """True (and counted) if the window of ``offset`` still has room for ``size_bytes``."""
        window = offset // self.window_records
        current, used = self._used.get(partition, (window, 0))
        if current != window:
            used = 0
        if used + size_bytes > self.max_bytes:
            self._used[partition] = (window, used)
            return False
        self._used[partition] = (window, used + size_bytes)
        return True


async def store_quarantined(store: ObjectStore, decision: Quarantine, raw: bytes, *,
                            quota: QuarantineQuota | None = None, partition: int = 0,
                            offset: int = 0) -> QuarantineRef:
    """Write the raw bytes (idempotently, within ``quota``) and return the receipt's reference.

    Args:
        raw: the bytes IG holds for the submission (for an oversize HTTP line, its prefix).
        quota: the storage quota; None keeps everything (tests, tools).
        partition, offset: the submission's ingress position (what the quota counts by).
    """
    held = digest_bytes(raw)
    whole = held.hex == decision.raw_digest.hex
    if quota is not None and not quota.charge(partition, offset, len(raw)):
        return QuarantineRef(object_key=quarantine_key(decision), digest=decision.raw_digest,
                             retained=QuarantineRetention.NONE)
    ref = await store.put(quarantine_key(decision, None if whole else held.hex), raw)
    return QuarantineRef(object_key=ref.key, digest=ref.digest,
                         retained=QuarantineRetention.FULL if whole else QuarantineRetention.PREFIX)

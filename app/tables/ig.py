"""IG's dedupe table: name and key encoding.

Key v1: the dedupe key bytes (``app.rails.dedupe_key``), which are also the ingress record key,
so each entry lives in the changelog partition of the ingress partition that decided it. The
per-ingress-partition reconcile checkpoint shares the table under ``__ckpt__|<partition>``.
Values are JSON: ``DedupeEntry`` dumps, or ``{"tp|partition": next_offset}`` for checkpoints.
"""

from __future__ import annotations

__all__ = ["IG_DEDUPE_TABLE", "checkpoint_key"]

IG_DEDUPE_TABLE = "ig-dedupe-v1"


def checkpoint_key(ingress_partition: int) -> bytes:
    return b"__ckpt__|%d" % ingress_partition

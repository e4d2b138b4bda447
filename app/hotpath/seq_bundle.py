"""Stage 1 -> stage 2 framing on ``fp.hotpath.seq.v2``: many traffic records in one seq record.

The forwarding stage re-keys traffic by run (``app.agents.hot_path``). One seq record per
traffic record doubled the broker round trips of the whole hot path (a produce and a consume per
event, each with faust's per-record machinery), so stage 1 packs the consecutive records of one
(traffic partition, run) from a delivered batch into one *bundle*: under load a bundle holds
hundreds of records, at a trickle one or two, so latency is unchanged.

A bundle is an internal repartition record, not a contract other components read, so it is a
compact binary frame rather than JSON (the values inside stay the traffic log's own bytes,
passed through untouched, so the fold parses each exactly once)::

    bundle := MAGIC (4 bytes) | traffic partition (uint32) | item*
    item   := traffic offset (int64) | flags (uint8; bit 0: watermark record) |
              length (uint32) | value (length bytes)

All integers big-endian. Offsets within a bundle strictly increase (one traffic partition, in
log order). A bundle that does not parse is reported by the fold as an anomaly, never folded.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["MAGIC", "MAX_BUNDLE_BYTES", "Forwarded", "SeqBundleError", "pack", "pack_all",
           "unpack"]

MAGIC = b"FPS2"
MAX_BUNDLE_BYTES = 512 * 1024
"""A bundle is cut before it grows past this (well under the producer's 1 MB request limit); a
single record larger than it still travels alone."""
_HEAD = struct.Struct(">4sI")
_ITEM = struct.Struct(">qBI")
_WATERMARK = 1


class SeqBundleError(ValueError):
    """A seq record that is not a well-formed bundle."""


@dataclass(frozen=True, slots=True)
class Forwarded:
    """One traffic record as stage 1 forwarded it: where it sits on the traffic log."""

    partition: int
    offset: int
    watermark: bool
    value: bytes


def pack(partition: int, items: Sequence[tuple[int, bool, bytes]]) -> bytes:
    """One bundle of ``(offset, is_watermark, value)`` items of traffic ``partition``."""
    parts = [_HEAD.pack(MAGIC, partition)]
    for offset, watermark, value in items:
        parts.append(_ITEM.pack(offset, _WATERMARK if watermark else 0, len(value)))
        parts.append(value)
    return b"".join(parts)


def pack_all(partition: int, items: Iterable[tuple[int, bool, bytes]]) -> Iterator[bytes]:
    """Bundles of the items in order, each cut before :data:`MAX_BUNDLE_BYTES`."""
    batch: list[tuple[int, bool, bytes]] = []
    size = _HEAD.size
    for item in items:
        grown = size + _ITEM.size + len(item[2])
        if batch and grown > MAX_BUNDLE_BYTES:
            yield pack(partition, batch)
            batch, grown = [], _HEAD.size + _ITEM.size + len(item[2])
        batch.append(item)
        size = grown
    if batch:
        yield pack(partition, batch)


def unpack(raw: bytes) -> list[Forwarded]:
    """The records of a bundle, in order; :class:`SeqBundleError` if it is not one."""
    if len(raw) < _HEAD.size:
        raise SeqBundleError(f"{len(raw)} bytes: shorter than a bundle header")
    magic, partition = _HEAD.unpack_from(raw, 0)
    if magic != MAGIC:
        raise SeqBundleError(f"magic {magic!r}, expected {MAGIC!r}")
    out: list[Forwarded] = []
    at, end, last = _HEAD.size, len(raw), -1
    view = memoryview(raw)
    while at < end:
        if end - at < _ITEM.size:
            raise SeqBundleError(f"truncated item header at byte {at}")
        offset, flags, length = _ITEM.unpack_from(raw, at)
        at += _ITEM.size
        if at + length > end:
            raise SeqBundleError(f"item at traffic offset {offset} runs past the bundle's end")
        if offset <= last or flags & ~_WATERMARK:
            raise SeqBundleError(f"item at traffic offset {offset}: offsets must increase "
                                 f"and flags be 0 or 1 (got {flags})")
        out.append(Forwarded(partition, offset, bool(flags & _WATERMARK),
                             bytes(view[at:at + length])))
        at += length
        last = offset
    if not out:
        raise SeqBundleError("a bundle without records")
    return out

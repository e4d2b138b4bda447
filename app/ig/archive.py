"""IG's admitted-traffic archive: every admitted record, append-only, in the object store.

Layout (one segment per IG batch and (run, stream, partition); canonical JSON, one
``ArchivedRecord`` per line, in offset order)::

    ig/archive/<run_id>/<stream>/p<partition:03d>/<first:012d>-<last:012d>-<sha256[:16]>.jsonl

Segments are create-only; the content digest in the name keeps a re-archived batch (after a
crash) from clashing with the first copy, and readers keep the first record seen at an offset
(every copy of an offset holds the same record: IG is the only writer of these logs). The
archive is written after the broker acked the batch and before its receipts, so every ADMIT
receipt has its record here; it is how a wiped bus gets its traffic back
(``app.ig.restore``) and what the offline rebuild reads (:func:`read_run`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.objectstore.base import ObjectStore
from app.rails.archive import ArchivedRecord, ArchiveStream
from app.rails.canonical_json import canonical_dumps, canonical_loads, sha256_hex

__all__ = ["ARCHIVE_PREFIX", "SegmentName", "archive_end", "parse_segment_key", "read_from",
           "read_run", "segment_key", "write_archive"]

ARCHIVE_PREFIX = "ig/archive"
_KEY = re.compile(r"^ig/archive/(?P<run>[^/]+)/(?P<stream>traffic|labels)/"
                  r"p(?P<partition>\d{3,})/(?P<first>\d{12})-(?P<last>\d{12})-[0-9a-f]{16}\.jsonl$")


@dataclass(frozen=True)
class SegmentName:
    """What a segment's key says about it."""

    run_id: str
    stream: ArchiveStream
    partition: int
    first_offset: int
    last_offset: int


def segment_key(run_id: str, stream: ArchiveStream, partition: int, first_offset: int,
                last_offset: int, body: bytes) -> str:
    return (f"{ARCHIVE_PREFIX}/{run_id}/{stream}/p{partition:03d}/{first_offset:012d}-"
            f"{last_offset:012d}-{sha256_hex(body)[:16]}.jsonl")


def parse_segment_key(key: str) -> SegmentName | None:
    """The parts of an archive segment key (None for any other key)."""
    match = _KEY.match(key)
    if match is None:
        return None
    stream: ArchiveStream = "traffic" if match["stream"] == "traffic" else "labels"
    return SegmentName(match["run"], stream, int(match["partition"]), int(match["first"]),
                       int(match["last"]))


async def write_archive(store: ObjectStore, records: Iterable[ArchivedRecord]) -> list[str]:
    """Write ``records`` as one segment per (run, stream, partition); returns the keys."""
    groups: dict[tuple[str, ArchiveStream, int], list[ArchivedRecord]] = {}
    for record in records:
        groups.setdefault((record.run_id, record.stream, record.partition), []).append(record)
    keys = []
    for (run_id, stream, partition), items in sorted(groups.items()):
        items.sort(key=lambda r: r.offset)
        body = b"".join(canonical_dumps(r.model_dump(mode="json")) + b"\n" for r in items)
        key = segment_key(run_id, stream, partition, items[0].offset, items[-1].offset, body)
        await store.put(key, body)
        keys.append(key)
    return keys


async def _segments(store: ObjectStore, *, run_id: str | None = None,
                    stream: ArchiveStream | None = None,
                    partition: int | None = None) -> list[tuple[str, SegmentName]]:
    prefix = f"{ARCHIVE_PREFIX}/{run_id}" if run_id else ARCHIVE_PREFIX
    found = []
    for key in await store.list(prefix):
        name = parse_segment_key(key)
        if name is None or (stream is not None and name.stream != stream):
            continue
        if partition is not None and name.partition != partition:
            continue
        found.append((key, name))
    return found


async def archive_end(store: ObjectStore, stream: ArchiveStream, partition: int) -> int:
    """One past the highest archived offset of ``stream``/``partition`` over every run (0: none)."""
    return max((n.last_offset + 1 for _, n in await _segments(store, stream=stream,
                                                                partition=partition)), default=0)


async def _read(store: ObjectStore, keys: Iterable[str], start: int) -> list[ArchivedRecord]:
    by_offset: dict[int, ArchivedRecord] = {}
    for key in keys:
        for line in (await store.get(key)).splitlines():
            if line:
                record = ArchivedRecord.model_validate(canonical_loads(line))
                if record.offset >= start:
                    by_offset.setdefault(record.offset, record)
    return [by_offset[o] for o in sorted(by_offset)]


async def read_from(store: ObjectStore, stream: ArchiveStream, partition: int,
                    start: int = 0) -> list[ArchivedRecord]:
    """Every run's archived records of ``stream``/``partition`` from ``start`` on, in order."""
    segments = await _segments(store, stream=stream, partition=partition)
    return await _read(store, (k for k, n in segments if n.last_offset >= start), start)


async def read_run(store: ObjectStore, run_id: str,
                   stream: ArchiveStream = "traffic") -> dict[int, list[ArchivedRecord]]:
    """One run's archived records of ``stream``, per partition in offset order (offline rebuild)."""
    segments = await _segments(store, run_id=run_id, stream=stream)
    out: dict[int, list[ArchivedRecord]] = {}
    for partition in sorted({n.partition for _, n in segments}):
        out[partition] = await _read(store, (k for k, n in segments if n.partition == partition),
                                     0)
    return out

"""IG's admitted-traffic archive: every admitted record, append-only, in the object store.

Offsets name records only within one log, and the embedded broker's logs start again at 0 on
every new broker instance, so the archive is kept per *bus generation* (``gen``: the broker
instance, or ``durable`` for a Kafka cluster whose logs outlive its brokers). One segment per IG
batch and (run, stream, partition, generation); canonical JSON, one ``ArchivedRecord`` per line,
in offset order::

    ig/archive/<run_id>/<stream>/p<partition:03d>/<gen>/<first:012d>-<last:012d>-<sha16>.jsonl

Each generation's archive of a partition is self-contained: a generation that restored its
predecessor's records (``app.ig.restore``) archives them again under itself, at the offsets they
now have. Which generations a partition has seen, in order, is kept in create-only head objects
``ig/generations/p<partition:03d>/<seq:06d>-<gen>.json`` (:class:`GenerationHead`).

Segments are create-only; the content digest in the name keeps a re-archived batch (after a
crash) from clashing with the first copy, and readers keep the first record seen at an offset
(every copy of an offset of one generation holds the same record: IG is the only writer of these
logs). The archive is written after the broker acked a batch and before its receipts, so every
ADMIT receipt has its record here; it restores a wiped bus and feeds the offline rebuild
(:func:`read_run`). The traffic log also holds IG's watermark records (issue #12), archived as
``kind: "watermark"`` lines at their offsets like any other record; :func:`envelopes_only`
keeps a reader's view to the admitted events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.objectstore.base import ObjectStore
from app.rails.archive import ArchivedRecord, ArchiveStream
from app.rails.canonical_json import canonical_dumps, canonical_loads, sha256_hex

__all__ = ["ARCHIVE_PREFIX", "DURABLE_GENERATION", "GENERATIONS_PREFIX", "GenerationHead",
           "SegmentName", "envelopes_only", "parse_segment_key", "read_from", "read_heads",
           "read_run", "segment_key", "write_archive", "write_head"]

ARCHIVE_PREFIX = "ig/archive"
GENERATIONS_PREFIX = "ig/generations"
DURABLE_GENERATION = "durable"
"""The generation of a bus whose logs survive its brokers (a Kafka or Redpanda cluster)."""

_KEY = re.compile(r"^ig/archive/(?P<run>[^/]+)/(?P<stream>traffic|labels)/p(?P<partition>\d{3,})/"
                  r"(?P<gen>[a-z0-9]+)/(?P<first>\d{12})-(?P<last>\d{12})-[0-9a-f]{16}\.jsonl$")
_HEAD = re.compile(r"^ig/generations/p(?P<partition>\d{3,})/(?P<seq>\d{6})-(?P<gen>[a-z0-9]+)"
                   r"\.json$")


@dataclass(frozen=True)
class SegmentName:
    """What a segment's key says about it."""

    run_id: str
    stream: ArchiveStream
    partition: int
    generation: str
    first_offset: int
    last_offset: int


@dataclass(frozen=True)
class GenerationHead:
    """A bus generation IG took a partition on: its order, and what it restored from before."""

    partition: int
    seq: int
    generation: str
    previous: str | None
    restored: int
    runs_restored: tuple[str, ...]

    def key(self) -> str:
        return f"{GENERATIONS_PREFIX}/p{self.partition:03d}/{self.seq:06d}-{self.generation}.json"


def segment_key(run_id: str, stream: ArchiveStream, partition: int, generation: str,
                first_offset: int, last_offset: int, body: bytes) -> str:
    return (f"{ARCHIVE_PREFIX}/{run_id}/{stream}/p{partition:03d}/{generation}/"
            f"{first_offset:012d}-{last_offset:012d}-{sha256_hex(body)[:16]}.jsonl")


def parse_segment_key(key: str) -> SegmentName | None:
    """The parts of an archive segment key (None for any other key)."""
    match = _KEY.match(key)
    if match is None:
        return None
    stream: ArchiveStream = "traffic" if match["stream"] == "traffic" else "labels"
    return SegmentName(match["run"], stream, int(match["partition"]), match["gen"],
                       int(match["first"]), int(match["last"]))


SEGMENT_MAX_BYTES = 16 * 1024 * 1024
"""A segment is cut before it would pass this size: a restore re-archives a whole run's records
at once (the full ULB run: 110 MB in one partition), and the object store refuses objects over
its limit (64 MiB by default)."""


async def write_archive(store: ObjectStore, generation: str,
                        records: Iterable[ArchivedRecord]) -> list[str]:
    """Write ``records`` as segments per (run, stream, partition), in offset order, each at most
    :data:`SEGMENT_MAX_BYTES` (a single larger line still gets a segment of its own); returns
    the keys."""
    groups: dict[tuple[str, ArchiveStream, int], list[ArchivedRecord]] = {}
    for record in records:
        groups.setdefault((record.run_id, record.stream, record.partition), []).append(record)
    keys = []
    for (run_id, stream, partition), items in sorted(groups.items()):
        items.sort(key=lambda r: r.offset)
        lines = [canonical_dumps(r.model_dump(mode="json")) + b"\n" for r in items]
        start = size = 0
        for end in range(len(lines) + 1):
            if end < len(lines) and (size + len(lines[end]) <= SEGMENT_MAX_BYTES
                                     or end == start):
                size += len(lines[end])
                continue
            body = b"".join(lines[start:end])
            key = segment_key(run_id, stream, partition, generation, items[start].offset,
                              items[end - 1].offset, body)
            await store.put(key, body)
            keys.append(key)
            start, size = end, 0
            if end < len(lines):
                size = len(lines[end])
    return keys


async def read_heads(store: ObjectStore, partition: int) -> list[GenerationHead]:
    """The generations IG took ``partition`` on, oldest first."""
    heads = []
    for key in await store.list(f"{GENERATIONS_PREFIX}/p{partition:03d}"):
        if _HEAD.match(key):
            body = canonical_loads(await store.get(key))
            heads.append(GenerationHead(
                partition=int(body["partition"]), seq=int(body["seq"]),
                generation=str(body["generation"]), previous=body.get("previous"),
                restored=int(body["restored"]), runs_restored=tuple(body["runs_restored"])))
    return sorted(heads, key=lambda h: h.seq)


async def write_head(store: ObjectStore, head: GenerationHead) -> None:
    await store.put(head.key(), canonical_dumps({
        "partition": head.partition, "seq": head.seq, "generation": head.generation,
        "previous": head.previous, "restored": head.restored,
        "runs_restored": list(head.runs_restored)}))


async def _segments(store: ObjectStore, *, run_id: str | None = None,
                    stream: ArchiveStream | None = None, partition: int | None = None,
                    generation: str | None = None) -> list[tuple[str, SegmentName]]:
    prefix = f"{ARCHIVE_PREFIX}/{run_id}" if run_id else ARCHIVE_PREFIX
    found = []
    for key in await store.list(prefix):
        name = parse_segment_key(key)
        if name is None or (stream is not None and name.stream != stream):
            continue
        if partition is not None and name.partition != partition:
            continue
        if generation is not None and name.generation != generation:
            continue
        found.append((key, name))
    return found


async def _read(store: ObjectStore, keys: Iterable[str], start: int) -> list[ArchivedRecord]:
    by_offset: dict[int, ArchivedRecord] = {}
    for key in keys:
        for line in (await store.get(key)).splitlines():
            if line:
                record = ArchivedRecord.model_validate(canonical_loads(line))
                if record.offset >= start:
                    by_offset.setdefault(record.offset, record)
    return [by_offset[o] for o in sorted(by_offset)]


async def read_from(store: ObjectStore, stream: ArchiveStream, partition: int, generation: str,
                    start: int = 0) -> list[ArchivedRecord]:
    """Every run's records of ``stream``/``partition`` in ``generation``, from ``start`` on."""
    segments = await _segments(store, stream=stream, partition=partition, generation=generation)
    return await _read(store, (k for k, n in segments if n.last_offset >= start), start)


def envelopes_only(records: Iterable[ArchivedRecord]) -> list[ArchivedRecord]:
    """The admitted events among ``records`` (watermark lines left out), in their order."""
    return [r for r in records if not r.is_watermark]


async def read_run(store: ObjectStore, run_id: str,
                   stream: ArchiveStream = "traffic") -> dict[int, list[ArchivedRecord]]:
    """One run's records of ``stream`` per partition, in offset order (the offline rebuild),
    watermark records included (filter with :func:`envelopes_only`).

    Per partition, the newest generation that holds the run: a generation that restored the
    run holds all of it, one that did not (the run had drained) holds none of it.
    """
    segments = await _segments(store, run_id=run_id, stream=stream)
    out: dict[int, list[ArchivedRecord]] = {}
    for partition in sorted({n.partition for _, n in segments}):
        order = {h.generation: h.seq for h in await read_heads(store, partition)}
        generations = {n.generation for _, n in segments if n.partition == partition}
        newest = max(generations, key=lambda g: (order.get(g, -1), g))
        out[partition] = await _read(store, (k for k, n in segments if n.partition == partition
                                             and n.generation == newest), 0)
    return out

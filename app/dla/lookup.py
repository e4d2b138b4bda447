"""Reading the audit log back: by decision, trigger event or action id, and all of it at once.

:class:`AuditIndex` loads segment indexes incrementally (segments are create-only, so one read
once never changes) and resolves an id to every version of its chain, the latest (superseding)
first. A segment whose index object is missing (a crash between the two writes) is indexed from
the segment itself; readers never write. :func:`read_audit_records` is the main job's and the
conformance suite's view: every record ever appended, each ``audit_id`` once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from app.dla.anomaly import AuditAnomaly
from app.dla.index import IdKind, SegmentIndex, index_of
from app.dla.segments import (
    INDEX_PREFIX,
    SEGMENTS_PREFIX,
    Segment,
    decode_segment,
    index_key_of,
)
from app.objectstore.base import ObjectStore
from app.rails.audit import AuditRecord
from app.rails.canonical_json import canonical_loads

__all__ = [
    "ID_KINDS",
    "AuditIndex",
    "Lookup",
    "is_hex64",
    "latest_first",
    "read_audit_anomalies",
    "read_audit_records",
]

ID_KINDS: tuple[IdKind, ...] = ("decision", "event", "action")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SEGMENT_CACHE = 8


def is_hex64(text: str) -> bool:
    """True for an id of the platform's form: 64 lowercase hex."""
    return _HEX64.fullmatch(text) is not None


Lookup = tuple[IdKind, list[AuditRecord]]


class AuditIndex:
    """Every segment index seen so far, merged; :meth:`poll` adds the new segments only."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._where: dict[IdKind, dict[str, list[tuple[str, int]]]] = {k: {} for k in ID_KINDS}
        self._cache: dict[str, Segment] = {}

    async def poll(self, store: ObjectStore) -> int:
        """Index the segments written since the last poll; returns how many were new."""
        segments = [k for k in await store.list(SEGMENTS_PREFIX) if k.endswith(".jsonl")]
        fresh = [k for k in segments if k not in self._known]
        if not fresh:
            return 0
        indexed = set(await store.list(INDEX_PREFIX))
        for key in fresh:
            index_key = index_key_of(key)
            if index_key in indexed:
                index = SegmentIndex.model_validate(canonical_loads(await store.get(index_key)))
            else:
                index = index_of(await self._segment(store, key))
            for kind in ID_KINDS:
                for id_, lines in getattr(index, kind).items():
                    self._where[kind].setdefault(id_, []).extend((key, n) for n in lines)
            self._known.add(key)
        return len(fresh)

    async def resolve(self, store: ObjectStore, kind: IdKind, id_: str, *,
                      poll: bool = True) -> list[AuditRecord]:
        """Every record of ``kind`` id ``id_``, each chain latest first ([] when unknown).
        ``poll=False`` answers from the segments indexed so far (a caller resolving many ids
        polls once first: every poll lists the audit log)."""
        if poll:
            await self.poll(store)
        records: list[AuditRecord] = []
        for key, line in self._where[kind].get(id_, ()):
            entry = (await self._segment(store, key)).entries[line - 1]
            if isinstance(entry, AuditRecord):
                records.append(entry)
        return latest_first(records)

    async def find(self, store: ObjectStore, id_: str) -> Lookup | None:
        """Resolve an id of unknown kind: decision, then event, then action id."""
        for kind in ID_KINDS:
            records = await self.resolve(store, kind, id_)
            if records:
                return kind, records
        return None

    async def _segment(self, store: ObjectStore, key: str) -> Segment:
        segment = self._cache.get(key)
        if segment is None:
            segment = decode_segment(key, await store.get(key))
            if len(self._cache) >= _SEGMENT_CACHE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = segment
        return segment


def latest_first(records: Iterable[AuditRecord]) -> list[AuditRecord]:
    """Each chain's versions newest first, following ``supersedes``; duplicates once."""
    by_id = {r.audit_id: r for r in records}
    superseded = {r.supersedes for r in by_id.values() if r.supersedes}
    out: list[AuditRecord] = []
    placed: set[str] = set()
    for head in [r for r in by_id.values() if r.audit_id not in superseded]:
        walk: AuditRecord | None = head
        while walk is not None and walk.audit_id not in placed:
            out.append(walk)
            placed.add(walk.audit_id)
            walk = by_id.get(walk.supersedes) if walk.supersedes else None
    out.extend(r for r in by_id.values() if r.audit_id not in placed)  # a supersession cycle
    return out


async def _segments(store: ObjectStore) -> list[Segment]:
    return [decode_segment(k, await store.get(k))
            for k in await store.list(SEGMENTS_PREFIX) if k.endswith(".jsonl")]


_E = TypeVar("_E", AuditRecord, AuditAnomaly)


async def _distinct(store: ObjectStore, kind: type[_E], id_of: Callable[[_E], str]) -> list[_E]:
    """Every entry of ``kind`` in the store (all logs, partitions, segments), each id once."""
    seen: set[str] = set()
    out: list[_E] = []
    for segment in await _segments(store):
        for entry in segment.entries:
            if isinstance(entry, kind) and id_of(entry) not in seen:
                seen.add(id_of(entry))
                out.append(entry)
    return out


async def read_audit_records(store: ObjectStore) -> list[AuditRecord]:
    """Every audit record in the store, each ``audit_id`` once."""
    return await _distinct(store, AuditRecord, lambda r: r.audit_id)


async def read_audit_anomalies(store: ObjectStore) -> list[AuditAnomaly]:
    """Every audit anomaly in the store, each ``anomaly_id`` once."""
    return await _distinct(store, AuditAnomaly, lambda a: a.anomaly_id)

"""The offline rebuild's inputs from the object store: IG's admitted-traffic archive for the
traffic log, DLA's audit log for the decisions (DESIGN section 7).

On the embedded broker the bus is memory-only, so after a run the object store is what offline
tools can read. IG's archive is a complete copy of the traffic log (watermark records included,
at their offsets), so :func:`traffic_of_archive` gives the rebuild the very records a bus read
gives, with the same partition / offset / watermark semantics. DLA's audit records carry each
decision's ``snapshot_hash`` and posture but not the values, so parity from the archive compares
snapshot hashes only (:func:`recorded_of_audit`: ``values`` is None).

Pure functions over read-back records, plus three thin readers (:func:`read_archived_run`,
:func:`archive_exists`, :func:`parity_from_archive`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.df.policy import DecisionPolicy
from app.dla.lookup import read_audit_records
from app.ig.archive import ARCHIVE_PREFIX, parse_segment_key, read_heads, read_run
from app.ig.run_directory import RunDirectory
from app.objectstore.base import ObjectStore
from app.ofs.parity import ParityReport, RecordedSnapshot
from app.ofs.rebuild import DEFAULT_TOPIC, TrafficRecord
from app.ofs.run import check_run_id, interleave, parity_of_recorded
from app.rails.archive import ArchivedRecord
from app.rails.audit import AuditRecord
from app.rails.canonical_json import canonical_dumps
from app.rails.payloads.declared import DeclaredContract
from app.rails.policy_rev import PolicyRev
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["ArchivedRun", "PartitionSpan", "archive_exists", "audit_of_run",
           "parity_from_archive", "read_archived_run", "recorded_of_audit", "traffic_of_archive"]


@dataclass(frozen=True, slots=True)
class PartitionSpan:
    """The offsets ``[first, next)`` of one partition's traffic log that hold the run's records,
    in the bus generation they were archived under (offsets name records only within one)."""

    partition: int
    generation: str
    first_offset: int
    next_offset: int


@dataclass(frozen=True)
class ArchivedRun:
    """One run's traffic as IG archived it: per partition, its records in offset order."""

    run_id: str
    partitions: dict[int, list[ArchivedRecord]]
    generations: dict[int, str]

    def spans(self) -> list[PartitionSpan]:
        """Per partition (ascending), the offset range of the run's records: the replay basis."""
        return [PartitionSpan(p, self.generations.get(p, ""), records[0].offset,
                              records[-1].offset + 1)
                for p, records in sorted(self.partitions.items()) if records]

    def traffic(self) -> list[TrafficRecord]:
        return traffic_of_archive(self.partitions)

    def envelopes(self) -> dict[str, dict[str, object]]:
        """Event id -> the admitted envelope (watermark records left out)."""
        return {str(r.record["event_id"]): r.record for records in self.partitions.values()
                for r in records if not r.is_watermark}


def traffic_of_archive(partitions: Mapping[int, Sequence[ArchivedRecord]]
                       ) -> list[TrafficRecord]:
    """The archived records as the rebuild takes them: each record's value is the canonical
    JSON of the archived object (byte-for-byte what IG published), watermark flag from the
    line's ``kind``; partitions interleaved like a bus read (:func:`app.ofs.run.interleave`),
    each in offset order."""
    records = [TrafficRecord(partition=r.partition, offset=r.offset,
                             value=canonical_dumps(r.record), watermark=r.is_watermark)
               for _, items in sorted(partitions.items()) for r in items]
    return interleave(records)


async def _generations(store: ObjectStore, run_id: str) -> dict[int, str]:
    """Per partition, the generation :func:`app.ig.archive.read_run` reads the run from (the
    newest one holding it, by the partition's generation heads)."""
    held: dict[int, set[str]] = {}
    for key in await store.list(f"{ARCHIVE_PREFIX}/{run_id}"):
        name = parse_segment_key(key)
        if name is not None and name.stream == "traffic":
            held.setdefault(name.partition, set()).add(name.generation)
    out: dict[int, str] = {}
    for partition, generations in sorted(held.items()):
        order = {h.generation: h.seq for h in await read_heads(store, partition)}
        out[partition] = max(generations, key=lambda g: (order.get(g, -1), g))
    return out


async def read_archived_run(store: ObjectStore, run_id: str) -> ArchivedRun:
    """``run_id``'s archived traffic (empty partitions map: nothing archived)."""
    return ArchivedRun(run_id=run_id, partitions=await read_run(store, run_id, "traffic"),
                       generations=await _generations(store, run_id))


async def archive_exists(store: ObjectStore, run_id: str) -> bool:
    """True when IG archived traffic of ``run_id``."""
    return any((name := parse_segment_key(k)) is not None and name.stream == "traffic"
               for k in await store.list(f"{ARCHIVE_PREFIX}/{run_id}"))


def audit_of_run(records: Iterable[AuditRecord], run_id: str) -> list[AuditRecord]:
    """The run's audit records, one per decision (a correction repeats its decision: the first
    record seen is kept), ordered by (trigger time, trigger event id, decision id)."""
    by_decision: dict[str, AuditRecord] = {}
    for record in records:
        if record.pins.run_id == run_id:
            by_decision.setdefault(record.decision_id, record)
    return sorted(by_decision.values(), key=lambda r: (
        ts_to_epoch_micros(r.decision.trigger_ts_utc), r.decision.trigger_event_id,
        r.decision_id))


def recorded_of_audit(records: Iterable[AuditRecord], run_id: str) -> list[RecordedSnapshot]:
    """What ``run_id``'s audit records say each decision saw: posture and snapshot hash, no
    values (see :func:`audit_of_run` for which records and in what order)."""
    return [RecordedSnapshot(event_id=r.decision.trigger_event_id, posture=r.decision.posture,
                             snapshot_hash=r.decision.snapshot_hash, values=None)
            for r in audit_of_run(records, run_id)]


async def parity_from_archive(store: ObjectStore, run_id: str, *, policy: DecisionPolicy,
                              policy_rev: PolicyRev, topic: str = DEFAULT_TOPIC) -> ParityReport:
    """Parity of ``run_id`` from the object store: the rebuild over IG's archive against the
    snapshot hashes in DLA's audit log.

    Raises:
        ParityInputError: a malformed run id, no audited decision of the run, or no archived
            traffic of it.
    """
    check_run_id(run_id)
    recorded = recorded_of_audit(await read_audit_records(store), run_id)
    run = await read_archived_run(store, run_id)
    return parity_of_recorded(run_id, run.traffic(), recorded, policy=policy,
                              policy_rev=policy_rev, topic=topic, source="archive",
                              declared=await declared_of_run(store, run_id))


async def declared_of_run(store: ObjectStore, run_id: str
                          ) -> Mapping[tuple[str, str], DeclaredContract]:
    """The payload contracts IG generated for the run from its declared schema (SR's run facts,
    read like IG reads them); {} for a generated world or a run SR does not know."""
    directory = RunDirectory(store, now=time.monotonic)
    await directory.refresh([run_id])
    state = directory.get(run_id)
    return {} if state is None else state.declared

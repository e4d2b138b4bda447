"""One run's parity from what the bus holds: traffic records and rtdl values in, a report out.

Pure (no I/O), so the whole path from read-back records to the report is unit tested without a
broker; ``app.ofs.bus`` only reads the two topics and calls :func:`parity_of_run`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from app.df.policy import DecisionPolicy
from app.ofs.errors import ParityInputError
from app.ofs.parity import ParityReport, RecordedSnapshot, compare, recorded_of_run
from app.ofs.rebuild import DEFAULT_TOPIC, TrafficRecord, rebuild_snapshots
from app.rails.ids import HEX32_PATTERN
from app.rails.payloads.declared import DeclaredContract
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.watermark import is_watermark_record

__all__ = ["LogRecord", "check_run_id", "interleave", "parity_of_recorded", "parity_of_run",
           "traffic_records"]

_CHUNK = 500
"""Records taken from one partition before the next: keeps the fold's pending buffer small."""


class LogRecord(Protocol):
    """A record read back from a topic (aiokafka's ``ConsumerRecord`` is one)."""

    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


def check_run_id(run_id: str) -> str:
    """``run_id`` if it is SR's form (32 lowercase hex).

    Raises:
        ParityInputError: any other string.
    """
    if not re.fullmatch(HEX32_PATTERN, run_id):
        raise ParityInputError(f"--run-id must be 32 lowercase hex characters, got {run_id!r:.80}")
    return run_id


def traffic_records(records: Iterable[LogRecord]) -> list[TrafficRecord]:
    """Read-back traffic records as the rebuild takes them (watermark flag from the header)."""
    return [TrafficRecord(partition=r.partition, offset=r.offset, value=r.value or b"",
                          watermark=is_watermark_record(r.headers)) for r in records]


def interleave(records: Iterable[TrafficRecord], chunk: int = _CHUNK) -> list[TrafficRecord]:
    """The partitions round-robin, ``chunk`` records at a time, each in its own order (any
    interleaving gives the same snapshots; this one keeps the fold's buffer small)."""
    by_partition: dict[int, list[TrafficRecord]] = {}
    for record in records:
        by_partition.setdefault(record.partition, []).append(record)
    out: list[TrafficRecord] = []
    total, start = sum(map(len, by_partition.values())), 0
    while len(out) < total:
        for partition in sorted(by_partition):
            out.extend(by_partition[partition][start:start + chunk])
        start += chunk
    return out


def parity_of_run(run_id: str, traffic: Sequence[TrafficRecord], rtdl: Iterable[bytes | None],
                  *, policy: DecisionPolicy, policy_rev: PolicyRev,
                  topic: str = DEFAULT_TOPIC) -> ParityReport:
    """Rebuild ``run_id``'s snapshots from ``traffic`` and compare them with its decisions
    among the ``rtdl`` values.

    Raises:
        ParityInputError: a malformed run id, no decision of the run, or no traffic of it.
    """
    check_run_id(run_id)
    recorded, unreadable = recorded_of_run(rtdl, run_id)
    return parity_of_recorded(run_id, traffic, recorded, policy=policy, policy_rev=policy_rev,
                              topic=topic, unreadable=unreadable)


def parity_of_recorded(run_id: str, traffic: Sequence[TrafficRecord],
                       recorded: Sequence[RecordedSnapshot], *, policy: DecisionPolicy,
                       policy_rev: PolicyRev, topic: str = DEFAULT_TOPIC, unreadable: int = 0,
                       source: str = "bus",
                       declared: Mapping[tuple[str, str], DeclaredContract] | None = None
                       ) -> ParityReport:
    """Rebuild ``run_id``'s snapshots from ``traffic`` (each trigger under its recorded
    posture) and compare them with ``recorded`` (from the bus, or from DLA's audit log).

    Raises:
        ParityInputError: no decision of the run, or no traffic of it.
    """
    where = {"bus": ("on the rtdl topic", "on the traffic topic"),
             "archive": ("in the audit log", "in IG's archive")}.get(source, ("", ""))
    if not recorded:
        extra = f" ({unreadable} unreadable decision records)" if unreadable else ""
        raise ParityInputError(f"no decisions of run {run_id} {where[0]}{extra}")
    postures: dict[str, Posture] = {}
    for item in recorded:
        postures.setdefault(item.event_id, item.posture)
    rebuild = rebuild_snapshots(traffic, run_id, policy=policy, policy_rev=policy_rev,
                                postures=postures, topic=topic, declared=declared)
    if not rebuild.events:
        hint = " (was the bus wiped?)" if source == "bus" else ""
        raise ParityInputError(f"no traffic of run {run_id} {where[1]}, but "
                               f"{len(recorded)} decisions of it{hint}")
    notes = {"traffic events": rebuild.events, "offline anomalies": rebuild.anomalies,
             "late triggers offline": rebuild.late, "unreadable decisions": unreadable}
    return compare(run_id, recorded, rebuild.snapshots, source=source,
                   notes={k: v for k, v in notes.items() if v or k == "traffic events"})

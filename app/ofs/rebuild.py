"""The offline feature function: a run's admitted traffic -> the snapshot of each of its triggers.

Parity comes from one code path, never a re-implementation: this drives the very
:class:`~app.hotpath.engine.HotPath` the workers run (one event-time fold per run over all
traffic partitions), so the only inputs that matter are the run's records and the watermark
records IG wrote among them, in each partition's offset order. How the partitions are
interleaved does not change a snapshot (the fold releases events in ``(ts_utc, event_id)``
order once the run's watermark passes them). Each trigger is snapshotted under the posture its
recorded decision used, because graph features exist only under postures that use the graph.
Decisions the fold makes on the way are discarded: only snapshots leave this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.df.policy import DecisionPolicy
from app.hotpath.engine import DecisionContext, HotPath
from app.rails.decision import FeatureSnapshot
from app.rails.payloads.declared import DeclaredContract
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.registry.resolver import Resolution, bootstrap_pair

__all__ = ["Rebuild", "TrafficRecord", "rebuild_snapshots"]

DEFAULT_TOPIC = "fp.bus.traffic.v1"


@dataclass(frozen=True, slots=True)
class TrafficRecord:
    """One record of the traffic log as read back: where it sits, its bytes, and whether it
    carries IG's watermark header (``app.rails.watermark.is_watermark_record``)."""

    partition: int
    offset: int
    value: bytes
    watermark: bool = False


@dataclass(frozen=True, slots=True)
class Rebuild:
    """What the offline fold produced for one run."""

    snapshots: dict[str, FeatureSnapshot]
    """Trigger event_id -> its snapshot (the first one, should the log hold a trigger twice)."""
    events: int
    """Traffic events of the run offered to the fold (watermark records not counted)."""
    anomalies: int
    """Records of the run the fold could not read (the online path reported them too)."""
    late: int
    """Triggers applied behind their partition's watermark (snapshot marked incomplete)."""


def rebuild_snapshots(records: Iterable[TrafficRecord], run_id: str, *,
                      policy: DecisionPolicy, policy_rev: PolicyRev,
                      postures: Mapping[str, Posture],
                      default_posture: Posture = Posture.NORMAL,
                      topic: str = DEFAULT_TOPIC,
                      declared: Mapping[tuple[str, str], DeclaredContract] | None = None
                      ) -> Rebuild:
    """Snapshots of every trigger of ``run_id`` the run's watermarks release.

    Args:
        records: the traffic log, watermark records included, in any interleaving of the
            partitions; within a partition, in offset order (a repeated offset is skipped as a
            redelivery, as online). Records of other runs are ignored.
        policy, policy_rev: the decision policy the run was decided under (its lateness and
            clock-advance bounds shape the fold).
        postures: trigger event_id -> the posture its recorded decision used; triggers not in
            it are snapshotted under ``default_posture``.
        declared: the payload contracts generated from the run's declared schema (an imported
            world's traffic: ``app.ofs.archive_source.declared_of_run``), as IG and the hot path
            used them online; None for a generated world.

    Raises:
        ValueError: a partition's records go back in offset order (the fold would silently
            take the later ones as redeliveries).
    """
    engine = HotPath(policy, policy_rev, posture_for=postures.get)
    ref, bundle = bootstrap_pair()  # any bundle: its decisions are discarded, snapshots kept
    context = DecisionContext(posture=default_posture, posture_reasons=(),
                              resolution=Resolution(bundle=bundle, ref=ref, reason_codes=()))
    marker = run_id.encode()
    last: dict[int, int] = {}
    snapshots: dict[str, FeatureSnapshot] = {}
    events = anomalies = late = 0

    def this_run(name: str) -> bool:
        return name == run_id

    contracts = dict(declared or {})

    def declared_of(name: str) -> Mapping[tuple[str, str], DeclaredContract]:
        return contracts if name == run_id else {}

    for record in records:
        if record.offset < last.get(record.partition, -1):
            raise ValueError(f"traffic partition {record.partition}: offset {record.offset} "
                             f"after {last[record.partition]} (records must be in offset order)")
        last[record.partition] = record.offset
        # Cheap pre-filter: a record of this run names it; the fold checks exactly.
        if marker not in record.value:
            continue
        events += not record.watermark
        eb_ref = EbRef(topic=topic, partition=record.partition, offset=record.offset)
        for result in engine.offer(record.value, eb_ref, context, run_known=this_run,
                                   watermark=record.watermark, declared_of=declared_of):
            if result.anomaly is not None:
                anomalies += result.anomaly.reason_code is not ReasonCode.TRIGGER_RUN_UNKNOWN
            elif result.decision is not None:
                snapshots.setdefault(result.decision.trigger.event_id, result.decision.snapshot)
                late += result.late
    return Rebuild(snapshots=snapshots, events=events, anomalies=anomalies, late=late)

"""Parity: the snapshots DF recorded against the ones the offline function rebuilt.

Per decision of the run: is the rebuilt ``snapshot_hash`` equal to the recorded one (the hash
covers values, as_of, basis, graph version, completeness and feature-set digests, so equal
means the decision saw exactly what the offline rebuild sees). Per feature name, over the
triggers present on both sides: mismatches (both have it, the values differ; a value's JSON
type counts, like in the hash), missing (recorded online, absent offline) and extra (present
offline, absent online). Triggers on only one side are listed, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.rails.decision import DecisionRecord, FeatureSnapshot
from app.rails.posture import Posture

__all__ = ["FeatureParity", "ParityReport", "RecordedSnapshot", "compare", "recorded_of",
           "recorded_of_run"]


@dataclass(frozen=True, slots=True)
class RecordedSnapshot:
    """What one emitted decision says its trigger's features were."""

    event_id: str
    posture: Posture
    snapshot_hash: str
    values: Mapping[str, object] | None
    """None when the source holds the hash only (DLA's audit records): then parity compares
    snapshot hashes and has no per-feature detail for this decision."""

    @classmethod
    def of_decision(cls, record: DecisionRecord) -> RecordedSnapshot:
        return cls(event_id=record.trigger.event_id, posture=record.posture,
                   snapshot_hash=record.snapshot.snapshot_hash, values=record.snapshot.values)


def recorded_of(body: Mapping[str, Any]) -> RecordedSnapshot:
    """The recorded snapshot of a decision record as read back (a JSON object).

    A record the platform wrote itself: only the fields parity reads are checked, cheaply.

    Raises:
        ValueError: a field parity needs is absent or of the wrong type.
    """
    try:
        trigger, snapshot = body["trigger"], body["snapshot"]
        event_id, digest, values = trigger["event_id"], snapshot["snapshot_hash"], \
            snapshot["values"]
        posture = Posture(body["posture"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"decision record without a readable {exc}") from None
    if not (isinstance(event_id, str) and isinstance(digest, str) and isinstance(values, dict)):
        raise ValueError("decision record: trigger.event_id, snapshot_hash or values mistyped")
    return RecordedSnapshot(event_id=event_id, posture=posture, snapshot_hash=digest,
                            values=values)


def recorded_of_run(values: Iterable[bytes | None], run_id: str
                    ) -> tuple[list[RecordedSnapshot], int]:
    """(recorded snapshots of ``run_id``'s decisions, in log order; values that looked like a
    decision but could not be read). Other record types and other runs are skipped."""
    out: list[RecordedSnapshot] = []
    unreadable = 0
    for value in values:
        try:
            body = orjson.loads(value or b"")
        except orjson.JSONDecodeError:
            unreadable += 1
            continue
        if not isinstance(body, dict) or body.get("record_type") != "decision":
            continue
        pins = body.get("pins")
        if not isinstance(pins, dict):
            unreadable += 1
        elif pins.get("run_id") == run_id:
            try:
                out.append(recorded_of(body))
            except ValueError:
                unreadable += 1
    return out, unreadable


@dataclass(frozen=True, slots=True)
class FeatureParity:
    """One feature over the triggers both sides have."""

    mismatches: int = 0
    missing: int = 0
    extra: int = 0

    @property
    def differs(self) -> bool:
        return bool(self.mismatches or self.missing or self.extra)


@dataclass(frozen=True)
class ParityReport:
    """The parity of one run; :attr:`ok` when every recorded snapshot was rebuilt equal."""

    run_id: str
    decisions: int
    """Decisions of the run on the bus (the first per trigger)."""
    equal: int
    """Of those, how many the offline rebuild reproduced: an equal ``snapshot_hash`` and equal
    values (a recorded value edited behind its unchanged hash does not count as equal)."""
    features: dict[str, FeatureParity]
    """Every feature name seen on either side, compared over triggers on both sides."""
    not_rebuilt: tuple[str, ...]
    """Triggers decided online that the offline rebuild did not snapshot (sorted)."""
    not_decided: tuple[str, ...]
    """Triggers the offline rebuild snapshotted that have no decision on the bus (sorted)."""
    unequal: tuple[str, ...]
    """Triggers on both sides whose rebuilt snapshot is not equal to the recorded one (sorted)."""
    basis_only: int
    """Of those, triggers whose values are all equal but whose hashes differ (as_of,
    basis, graph version, completeness or feature-set digests)."""
    duplicate_decisions: int = 0
    """Further decisions of an already counted trigger (the first one is compared)."""
    notes: dict[str, int] = field(default_factory=dict)
    """Counts from the readers (unreadable decisions, traffic events, anomalies, late)."""
    per_feature: bool = True
    """False when the recorded side carried snapshot hashes only (decisions read from DLA's
    audit log, not the bus): :attr:`features` is then empty and only hashes were compared."""
    source: str = "bus"
    """Where traffic and decisions were read: ``bus`` (the topics) or ``archive`` (IG's
    admitted-traffic archive and DLA's audit log in the object store)."""

    @property
    def share_equal(self) -> float:
        """Equal snapshot hashes over the run's decisions (0.0 when it has none)."""
        return self.equal / self.decisions if self.decisions else 0.0

    @property
    def ok(self) -> bool:
        """Every decision reproduced and nothing rebuilt that was never decided."""
        return self.decisions > 0 and self.equal == self.decisions and not self.not_decided

    def lines(self, *, every_feature: bool = False, limit: int = 10) -> list[str]:
        """A text rendering: the share, the sides' gaps, then the per-feature table (features
        that differ, or every feature)."""
        percent = math.floor(self.share_equal * 10_000) / 100  # never rounds up to 100
        out = [f"run {self.run_id}: {self.equal} of {self.decisions} decisions with an equal "
               f"snapshot hash ({percent:.2f} %)"]
        if self.notes:
            out.append("  " + ", ".join(f"{k} {v}" for k, v in sorted(self.notes.items())))
        for label, ids in (("decided online, not rebuilt", self.not_rebuilt),
                           ("rebuilt offline, not decided", self.not_decided),
                           ("rebuilt, not equal", self.unequal)):
            if ids or label != "rebuilt, not equal":
                shown = ", ".join(ids[:limit]) + (", ..." if len(ids) > limit else "")
                out.append(f"{label}: {len(ids)}" + (f" ({shown})" if ids else ""))
        if self.basis_only:
            out.append(f"equal values, different hash (basis, as_of, graph version, complete or "
                       f"feature sets): {self.basis_only}")
        if self.duplicate_decisions:
            out.append(f"further decisions of an already decided trigger: "
                       f"{self.duplicate_decisions}")
        if not self.per_feature:
            out.append("features: no per-feature detail (the audit log records snapshot "
                       "hashes, not values; use --source bus while the run is on the bus)")
            return out
        rows = sorted((name, f) for name, f in self.features.items()
                      if every_feature or f.differs)
        if not rows:
            out.append(f"features: all {len(self.features)} equal on every compared trigger")
            return out
        width = max(len("feature"), *(len(name) for name, _ in rows))
        out.append(f"{'feature':<{width}}  {'mismatches':>10}  {'missing':>7}  {'extra':>5}")
        out.extend(f"{name:<{width}}  {f.mismatches:>10}  {f.missing:>7}  {f.extra:>5}"
                   for name, f in rows)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "source": self.source, "per_feature": self.per_feature,
                "decisions": self.decisions, "equal": self.equal,
                "share_equal": self.share_equal, "ok": self.ok,
                "not_rebuilt": list(self.not_rebuilt), "not_decided": list(self.not_decided),
                "unequal": list(self.unequal), "basis_only": self.basis_only,
                "duplicate_decisions": self.duplicate_decisions,
                "notes": dict(self.notes),
                "features": {name: {"mismatches": f.mismatches, "missing": f.missing,
                                    "extra": f.extra}
                             for name, f in sorted(self.features.items())}}


def compare(run_id: str, recorded: Iterable[RecordedSnapshot],
            rebuilt: Mapping[str, FeatureSnapshot], *,
            notes: Mapping[str, int] | None = None, source: str = "bus") -> ParityReport:
    """Compare a run's recorded snapshots with the rebuilt ones (trigger event_id -> snapshot).

    A recorded snapshot without values (``values is None``) is compared by hash alone; the
    report has per-feature detail only when every recorded snapshot carried its values.
    """
    seen: set[str] = set()
    duplicates = equal = basis_only = 0
    per_feature = True
    counts: dict[str, list[int]] = {}  # name -> [mismatches, missing, extra]
    not_rebuilt: list[str] = []
    unequal: list[str] = []
    for online in recorded:
        if online.event_id in seen:
            duplicates += 1
            continue
        seen.add(online.event_id)
        offline = rebuilt.get(online.event_id)
        if online.values is None:
            per_feature = False
            if offline is None:
                not_rebuilt.append(online.event_id)
            elif offline.snapshot_hash == online.snapshot_hash:
                equal += 1
            else:
                unequal.append(online.event_id)
            continue
        if offline is None:
            not_rebuilt.append(online.event_id)
            for name in online.values:
                counts.setdefault(name, [0, 0, 0])
            continue
        same_values = True
        for name in online.values.keys() | offline.values.keys():
            row = counts.setdefault(name, [0, 0, 0])
            if name not in offline.values:
                row[1] += 1
            elif name not in online.values:
                row[2] += 1
            elif not _same(online.values[name], offline.values[name]):
                row[0] += 1
            else:
                continue
            same_values = False
        if offline.snapshot_hash == online.snapshot_hash and same_values:
            equal += 1  # (a value edited behind an unchanged recorded hash is not equal)
            continue
        unequal.append(online.event_id)
        basis_only += same_values
    return ParityReport(
        run_id=run_id, decisions=len(seen), equal=equal,
        features={name: FeatureParity(*row) for name, row in counts.items()} if per_feature
        else {},
        not_rebuilt=tuple(sorted(not_rebuilt)),
        not_decided=tuple(sorted(set(rebuilt) - seen)), unequal=tuple(sorted(unequal)),
        basis_only=basis_only,
        duplicate_decisions=duplicates, notes=dict(notes or {}), per_feature=per_feature,
        source=source)


def _same(a: object, b: object) -> bool:
    """Equal as JSON values: the same type too (1 and 1.0, or True and 1, hash differently)."""
    return type(a) is type(b) and a == b

"""The hot path of one worker, as plain Python: admitted traffic in, decisions and anomalies out.

``HotPath.offer`` takes one traffic record (bytes + where it sits on the traffic log) and what
the worker knows right now (posture, resolved bundle), and returns what the record *released*:
decisions to emit, anomalies to report. Each run is one fold over all of its traffic partitions
(issue #12): its events wait in a :class:`~app.hotpath.sequencer.RunSequencer` until the run's
watermark passes them, and are applied in event-time order, so a trigger's snapshot sees exactly
the run's events before it, whatever the partition count, the worker count or the arrival
interleaving. A trigger already decided before a crash (``decided``) is folded in and not
decided again. The faust agent, the rebuild after a rebalance and the offline replay all drive
this same object, so they cannot disagree. Nothing crosses runs.

Records reach a run's fold once each in their partition's order; a record delivered again (its
traffic offset at or below the last one applied from that partition) is skipped.

An event the shard's clock held (a lone event far ahead, see ``app.hotpath.event_clock``) or an
authorisation too old to retain (``not_retained``) is still decided and applied; it is counted
per shard (``fp_hotpath_event_time_events`` in the worker's metrics) and logged as one structured
line each time a shard's count reaches a power of two (bounded log volume). Late events (behind
their partition's watermark) are counted in ``late_events``; a late trigger's decision carries
``LATE_TRIGGER``.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field

import orjson
from pydantic import ValidationError

from app.df.decide import DecideInputs, decide
from app.df.policy import DecisionPolicy
from app.hotpath.sequencer import FINAL_US, Released, RunSequencer
from app.hotpath.shard import Shard
from app.hotpath.traffic import (
    DeclaredOf,
    TrafficEvent,
    UnreadableTrafficError,
    parse_traffic,
)
from app.ofp.snapshot import build_snapshot
from app.rails.anomaly import HotPathAnomaly, hot_path_anomaly
from app.rails.decision import DecisionOutcome, DecisionRecord, FeatureSnapshot, TriggerRef
from app.rails.payloads import AuthRequestV1
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts, ts_to_epoch_micros
from app.rails.watermark import TrafficWatermark
from app.registry.resolver import Resolution
from app.runtime.structured_log import log_event

__all__ = ["DecidedMap", "DecisionContext", "HotPath", "RunFold", "StepResult", "live_engines"]

logger = logging.getLogger(__name__)

DecidedMap = MutableMapping[tuple[int, int], DecisionOutcome]
"""Trigger (traffic partition, offset) -> the outcome already on rtdl (popped when folded in)."""


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What the worker knows besides the event: the posture it may use and the bundle."""

    posture: Posture
    posture_reasons: tuple[str, ...]
    resolution: Resolution


@dataclass(frozen=True, slots=True)
class StepResult:
    decision: DecisionRecord | None = None
    anomaly: HotPathAnomaly | None = None
    already_decided: bool = False
    late: bool = False


@dataclass
class RunFold:
    """One run's fold: the sequencer in front of the run's feature and graph state."""

    run_id: str
    shard: Shard
    sequencer: RunSequencer[TrafficEvent] = field(default_factory=RunSequencer)
    next_offset: dict[int, int] = field(default_factory=dict)  # traffic partition -> next
    watermarks: int = 0

    def fresh(self, eb_ref: EbRef) -> bool:
        """Whether the record is new from its partition (and note it as seen)."""
        if eb_ref.offset < self.next_offset.get(eb_ref.partition, 0):
            return False
        self.next_offset[eb_ref.partition] = eb_ref.offset + 1
        return True


class HotPath:
    """Per-run folds (keyed by the lane, i.e. the input partition, that carries the run) plus
    the decision function."""

    def __init__(self, policy: DecisionPolicy, policy_rev: PolicyRev, *,
                 posture_for: Callable[[str], Posture | None] | None = None) -> None:
        """``posture_for(trigger event_id)``: the offline rebuild's hook to snapshot each trigger
        under the posture its recorded decision used (``None``: the context's posture)."""
        self.policy = policy
        self.policy_rev = policy_rev
        self._posture_for = posture_for
        self._lateness_us = int(policy.allowed_lateness_s * 1_000_000)
        self._clock_advance_us = int(policy.max_clock_advance_s * 1_000_000)
        self._folds: dict[tuple[int, str], RunFold] = {}
        self._triggers = frozenset(policy.triggers)
        _LIVE.add(self)

    def offer(self, raw: bytes, eb_ref: EbRef, ctx: DecisionContext, *,
              run_known: Callable[[str], bool], watermark: bool = False,
              decided: DecidedMap | None = None, lane: int = 0,
              declared_of: DeclaredOf | None = None) -> list[StepResult]:
        """Take one traffic record; returns the results of every event it released.

        Args:
            eb_ref: where the record sits on the traffic log (its provenance).
            watermark: the record carries the watermark header (``app.rails.watermark``).
            decided: triggers already decided (popped as they are folded in).
            lane: the input partition that carries the run here (state is dropped by lane).
            declared_of: run_id -> the payload contracts generated from the run's declared
                schema (an imported world's traffic); None: hand-written contracts only.
        """
        if watermark:
            return self._offer_watermark(raw, eb_ref, ctx, run_known, decided, lane)
        try:
            event = parse_traffic(raw, eb_ref, declared_of)
        except UnreadableTrafficError as exc:
            return [StepResult(anomaly=hot_path_anomaly("df", ReasonCode.TRIGGER_UNREADABLE,
                                                        eb_ref, str(exc)))]
        envelope = event.envelope
        if not run_known(envelope.run_id):
            return [StepResult(anomaly=hot_path_anomaly(
                "df", ReasonCode.TRIGGER_RUN_UNKNOWN, eb_ref, "run is not READY in SR's ledger",
                event_id=envelope.event_id, run_id=envelope.run_id))]
        fold = self._fold(lane, envelope.run_id)
        if not fold.fresh(eb_ref):
            return []
        released = fold.sequencer.offer_event(eb_ref.partition, event.ts_us, envelope.event_id,
                                              envelope.event_type, event)
        return self._apply_released(fold, released, ctx, decided)

    def _offer_watermark(self, raw: bytes, eb_ref: EbRef, ctx: DecisionContext,
                         run_known: Callable[[str], bool], decided: DecidedMap | None,
                         lane: int) -> list[StepResult]:
        try:
            mark = TrafficWatermark.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            return [StepResult(anomaly=hot_path_anomaly(
                "df", ReasonCode.TRIGGER_UNREADABLE, eb_ref,
                f"watermark record invalid: {str(exc)[:200]}"))]
        if mark.partition != eb_ref.partition or not run_known(mark.run_id):
            # Not where IG writes it, or for a run this worker cannot decide: it must not move
            # any fold (a misplaced watermark would release events early).
            return [StepResult(anomaly=hot_path_anomaly(
                "df", ReasonCode.TRIGGER_UNREADABLE, eb_ref,
                f"watermark for partition {mark.partition} (run {mark.run_id}) read from "
                f"partition {eb_ref.partition}, or its run is not READY", run_id=mark.run_id))]
        fold = self._fold(lane, mark.run_id)
        if not fold.fresh(eb_ref):
            return []
        fold.watermarks += 1
        at_us = FINAL_US if mark.final or mark.watermark_ts_utc is None else ts_to_epoch_micros(
            mark.watermark_ts_utc)
        released = fold.sequencer.offer_watermark(eb_ref.partition, mark.partitions, at_us)
        return self._apply_released(fold, released, ctx, decided)

    def _apply_released(self, fold: RunFold, released: list[Released[TrafficEvent]],
                        ctx: DecisionContext, decided: DecidedMap | None) -> list[StepResult]:
        results: list[StepResult] = []
        shard = fold.shard
        for item in released:
            event = item.item
            payload = event.payload
            envelope = event.envelope
            if envelope.event_type not in self._triggers or not (
                    isinstance(payload, AuthRequestV1) or _declared_trigger(event)):
                _apply(shard, event)
                continue
            ref = event.eb_ref
            prior = None if decided is None else decided.pop((ref.partition, ref.offset), None)
            if prior is not None:
                _apply(shard, event, prior)
                results.append(StepResult(already_decided=True, late=item.late))
                continue
            posture = ctx.posture
            if self._posture_for is not None:
                posture = self._posture_for(envelope.event_id) or posture
            snapshot = shard.snapshot(event, payload, posture)
            reasons = ctx.posture_reasons
            if item.late:  # not every event before it was applied: say so, never decide less
                snapshot = _incomplete(snapshot)
                reasons = (*reasons, LATE_TRIGGER)
            # Pins and trigger ref are copied from the envelope parse_traffic validated (and
            # the caller's EbRef): construct them, do not validate the same strings again.
            record = decide(DecideInputs(
                pins=ContextPins.model_construct(
                    manifest_fingerprint=envelope.manifest_fingerprint,
                    parameter_hash=envelope.parameter_hash, scenario_id=envelope.scenario_id,
                    run_id=envelope.run_id),
                trigger=TriggerRef.model_construct(
                    event_id=envelope.event_id, event_type=envelope.event_type,
                    ts_utc=envelope.ts_utc, eb_ref=ref),
                subject=_subject(event),
                snapshot=snapshot, posture=posture, posture_reasons=reasons,
                resolution=ctx.resolution, policy=self.policy, policy_rev=self.policy_rev))
            _apply(shard, event, record.outcome)
            results.append(StepResult(decision=record, late=item.late))
        return results

    def _fold(self, lane: int, run_id: str) -> RunFold:
        key = (lane, run_id)
        fold = self._folds.get(key)
        if fold is None:
            shard = Shard(run_id, "", 0, allowed_lateness_us=self._lateness_us,
                          max_clock_advance_us=self._clock_advance_us)
            fold = self._folds[key] = RunFold(run_id=run_id, shard=shard)
        return fold

    def event_time_counts(self) -> dict[str, int]:
        """Over this worker's folds: events the clocks held, auth events not retained, events
        behind their partition's watermark, events waiting for the watermark."""
        folds = list(self._folds.values())
        return {"clock_held": sum(f.shard.clock.held for f in folds),
                "not_retained": sum(f.shard.not_retained for f in folds),
                "late": sum(f.sequencer.late_events for f in folds),
                "pending": sum(f.sequencer.pending for f in folds)}

    def folds(self, run_id: str | None = None) -> list[RunFold]:
        """This worker's folds (of one run, if given), in (lane, run) order."""
        return [f for (_, r), f in sorted(self._folds.items()) if run_id in (None, r)]

    def shards(self, run_id: str | None = None) -> list[Shard]:
        """This worker's shards (one per run it folds), in (lane, run) order."""
        return [f.shard for f in self.folds(run_id)]

    def lane(self, lane: int) -> dict[str, RunFold]:
        """The folds of one lane, by run (for a snapshot)."""
        return {run: fold for (ln, run), fold in self._folds.items() if ln == lane}

    def load_lane(self, lane: int, folds: dict[str, RunFold]) -> None:
        """Install a lane's folds from a snapshot (replacing whatever the lane held)."""
        self.drop_lanes([lane])
        for run, fold in folds.items():
            self._folds[(lane, run)] = fold

    def drop_lanes(self, lanes: Iterable[int]) -> None:
        """Forget the runs of lanes this worker no longer owns (rebuilt if they return)."""
        gone = set(lanes)
        for key in [k for k in self._folds if k[0] in gone]:
            del self._folds[key]


def _declared_trigger(event: TrafficEvent) -> bool:
    """An imported transaction that can be decided: read with its run's declared contract, as
    business traffic with a flow id (``txn_id``) and an amount."""
    contract = event.declared
    return contract is not None and contract.role == "business_traffic" \
        and contract.flow_field is not None and "amount_minor" in contract.model.model_fields


_SUBJECT_FIELDS = ("card_id", "account_id", "merchant_id")


def _subject(event: TrafficEvent) -> dict[str, str]:
    """What the decision's actions target: the entity ids the trigger names (absent ones are
    left out), its flow id (an authorisation's ``flow_id``; an imported transaction's
    ``txn_id``) and, for a case's dual control and the console (issue #14), its amount."""
    payload = event.payload
    flow_field = "flow_id" if event.declared is None else event.declared.flow_field
    assert flow_field is not None  # checked by _declared_trigger
    subject = {name: value for name in _SUBJECT_FIELDS
               if isinstance(value := getattr(payload, name, None), str)}
    subject["flow_id"] = getattr(payload, flow_field)
    subject["amount_minor"] = str(getattr(payload, "amount_minor"))  # noqa: B009  # payload models differ
    subject["currency"] = getattr(payload, "currency")  # noqa: B009
    return subject


LATE_TRIGGER = "LATE_TRIGGER"
"""Reason code of a trigger that arrived behind its partition's watermark (issue #12)."""


def _incomplete(snapshot: FeatureSnapshot) -> FeatureSnapshot:
    """The same snapshot marked incomplete (its hash covers ``complete``, so it is rebuilt)."""
    return build_snapshot(
        feature_sets=snapshot.feature_sets,
        as_of=snapshot.as_of, values=snapshot.values, input_basis=snapshot.input_basis,
        graph_version=snapshot.graph_version, complete=False)


_LIVE: weakref.WeakSet[HotPath] = weakref.WeakSet()


def live_engines() -> list[HotPath]:
    """The engines alive in this process (the worker's metrics read their shard counters)."""
    return list(_LIVE)


def _apply(shard: Shard, event: TrafficEvent, outcome: DecisionOutcome | None = None) -> None:
    """Apply ``event`` to its shard; log when a held / not-retained count reaches a power of 2."""
    not_retained_before = shard.not_retained
    newly_held = shard.apply(event, outcome)
    clock = shard.clock
    if _reaches_power_of_two(clock.held - newly_held, clock.held):
        _log_event_time("clock_held", shard, shard.last_held if newly_held else None)
    if _reaches_power_of_two(not_retained_before, shard.not_retained):
        _log_event_time("not_retained", shard, event)


def _log_event_time(kind: str, shard: Shard, event: TrafficEvent | None) -> None:
    """One structured line naming the event (ids, offset, times; never payload values)."""
    wm = shard.clock.watermark_us
    named: dict[str, object] = {}
    if event is not None:
        named = {"event_id": event.envelope.event_id, "event_type": event.envelope.event_type,
                 "offset": event.eb_ref.offset, "ts_utc": event.envelope.ts_utc}
    log_event(logger, "hotpath.event_time_held", kind=kind, run_id=shard.run_id,
              partition=shard.partition, **named,
              clock_utc=None if wm is None else epoch_micros_to_ts(wm),
              clock_held=shard.clock.held, held_max_s=shard.clock.held_max_us / 1e6,
              not_retained=shard.not_retained)


def _reaches_power_of_two(before: int, after: int) -> bool:
    """Whether a count went past a power of two (1, 2, 4, ...) from ``before`` to ``after``."""
    return before.bit_length() < after.bit_length()

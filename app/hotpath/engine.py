"""The hot path of one worker, as plain Python: admitted traffic in, decisions and anomalies out.

``HotPath.step`` takes one traffic record (bytes + where it sits on the bus) and what the worker
knows right now (posture, resolved bundle), and returns the decision to emit, an anomaly to
report, or nothing (a follow-up event that only updates state, or a trigger already decided
before a crash: it is folded in with its recorded outcome and not decided again). The faust agent,
the rebuild after a rebalance and the offline replay all drive this same object, so they cannot
disagree. State is kept per (run_id, partition): nothing crosses runs.

An event the shard's clock held (a lone event far ahead, see ``app.hotpath.event_clock``) or an
authorisation too old to retain (``not_retained``) is still decided and applied; it is counted
per shard (``fp_hotpath_event_time_events`` in the worker's metrics) and logged as one structured
line each time a shard's count reaches a power of two (bounded log volume).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.df.decide import DecideInputs, decide
from app.df.policy import DecisionPolicy
from app.hotpath.shard import Shard
from app.hotpath.traffic import (
    TRIGGER_EVENT_TYPE,
    TrafficEvent,
    UnreadableTrafficError,
    parse_traffic,
)
from app.rails.anomaly import HotPathAnomaly, hot_path_anomaly
from app.rails.decision import DecisionOutcome, DecisionRecord, TriggerRef
from app.rails.payloads import AuthRequestV1
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts
from app.registry.resolver import Resolution
from app.runtime.structured_log import log_event

__all__ = ["DecisionContext", "HotPath", "StepResult", "live_engines"]

logger = logging.getLogger(__name__)


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


class HotPath:
    """Per-(run, partition) shards plus the decision function."""

    def __init__(self, policy: DecisionPolicy, policy_rev: PolicyRev) -> None:
        self.policy = policy
        self.policy_rev = policy_rev
        self._lateness_us = int(policy.allowed_lateness_s * 1_000_000)
        self._clock_advance_us = int(policy.max_clock_advance_s * 1_000_000)
        self._shards: dict[tuple[str, int], Shard] = {}
        _LIVE.add(self)

    def step(self, raw: bytes, eb_ref: EbRef, ctx: DecisionContext, *,
             run_known: Callable[[str], bool],
             prior: DecisionOutcome | None = None) -> StepResult:
        """Process one admitted traffic record; ``prior`` = its already-emitted outcome."""
        try:
            event = parse_traffic(raw, eb_ref)
        except UnreadableTrafficError as exc:
            return StepResult(anomaly=hot_path_anomaly("df", ReasonCode.TRIGGER_UNREADABLE,
                                                       eb_ref, str(exc)))
        envelope = event.envelope
        if not run_known(envelope.run_id):
            return StepResult(anomaly=hot_path_anomaly(
                "df", ReasonCode.TRIGGER_RUN_UNKNOWN, eb_ref, "run is not READY in SR's ledger",
                event_id=envelope.event_id, run_id=envelope.run_id))
        shard = self._shard(envelope.run_id, eb_ref)
        payload = event.payload
        if envelope.event_type != TRIGGER_EVENT_TYPE or not isinstance(payload, AuthRequestV1):
            _apply(shard, event)
            return StepResult()
        if prior is not None:
            _apply(shard, event, prior)
            return StepResult(already_decided=True)
        snapshot = shard.snapshot(event, payload, ctx.posture)
        record = decide(DecideInputs(
            pins=envelope.pins(),
            trigger=TriggerRef(event_id=envelope.event_id, event_type=envelope.event_type,
                               ts_utc=envelope.ts_utc, eb_ref=eb_ref),
            subject={"card_id": payload.card_id, "account_id": payload.account_id,
                     "merchant_id": payload.merchant_id, "flow_id": payload.flow_id},
            snapshot=snapshot, posture=ctx.posture, posture_reasons=ctx.posture_reasons,
            resolution=ctx.resolution, policy=self.policy, policy_rev=self.policy_rev))
        _apply(shard, event, record.outcome)
        return StepResult(decision=record)

    def _shard(self, run_id: str, eb_ref: EbRef) -> Shard:
        key = (run_id, eb_ref.partition)
        shard = self._shards.get(key)
        if shard is None:
            shard = Shard(run_id, eb_ref.topic, eb_ref.partition,
                          allowed_lateness_us=self._lateness_us,
                          max_clock_advance_us=self._clock_advance_us)
            self._shards[key] = shard
        return shard

    def event_time_counts(self) -> dict[str, int]:
        """Over this worker's shards: events the clocks held, auth events not retained."""
        shards = list(self._shards.values())
        return {"clock_held": sum(s.clock.held for s in shards),
                "not_retained": sum(s.not_retained for s in shards)}

    def shards(self, run_id: str | None = None) -> list[Shard]:
        """This worker's shards (of one run, if given), in (run, partition) order."""
        return [s for (r, _), s in sorted(self._shards.items()) if run_id in (None, r)]

    def drop_partitions(self, partitions: Iterable[int]) -> None:
        """Forget the state of partitions this worker no longer owns (rebuilt if they return)."""
        gone = set(partitions)
        for key in [k for k in self._shards if k[1] in gone]:
            del self._shards[key]


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

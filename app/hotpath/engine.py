"""The hot path of one worker, as plain Python: admitted traffic in, decisions and anomalies out.

``HotPath.step`` takes one traffic record (bytes + where it sits on the bus) and what the worker
knows right now (posture, resolved bundle), and returns the decision to emit, an anomaly to
report, or nothing (a follow-up event that only updates state, or a trigger already decided
before a crash: it is folded in with its recorded outcome and not decided again). The faust agent,
the rebuild after a rebalance and the offline replay all drive this same object, so they cannot
disagree. State is kept per (run_id, partition): nothing crosses runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.df.decide import DecideInputs, decide
from app.df.policy import DecisionPolicy
from app.hotpath.shard import Shard
from app.hotpath.traffic import TRIGGER_EVENT_TYPE, UnreadableTrafficError, parse_traffic
from app.rails.anomaly import HotPathAnomaly, hot_path_anomaly
from app.rails.decision import DecisionOutcome, DecisionRecord, TriggerRef
from app.rails.payloads import AuthRequestV1
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.registry.resolver import Resolution

__all__ = ["DecisionContext", "HotPath", "StepResult"]


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
        self._shards: dict[tuple[str, int], Shard] = {}

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
            shard.apply(event)
            return StepResult()
        if prior is not None:
            shard.apply(event, prior)
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
        shard.apply(event, record.outcome)
        return StepResult(decision=record)

    def _shard(self, run_id: str, eb_ref: EbRef) -> Shard:
        key = (run_id, eb_ref.partition)
        shard = self._shards.get(key)
        if shard is None:
            shard = Shard(run_id, eb_ref.topic, eb_ref.partition,
                          allowed_lateness_us=self._lateness_us)
            self._shards[key] = shard
        return shard

    def shards(self, run_id: str | None = None) -> list[Shard]:
        """This worker's shards (of one run, if given), in (run, partition) order."""
        return [s for (r, _), s in sorted(self._shards.items()) if run_id in (None, r)]

    def drop_partitions(self, partitions: Iterable[int]) -> None:
        """Forget the state of partitions this worker no longer owns (rebuilt if they return)."""
        gone = set(partitions)
        for key in [k for k in self._shards if k[1] in gone]:
            del self._shards[key]

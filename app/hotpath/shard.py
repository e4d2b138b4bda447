"""One run's hot-path state on one traffic partition: the entity graph and the feature windows.

State is a pure fold of the partition's admitted traffic (and of the platform's own outcomes for
its authorisations), so a worker that takes a partition over rebuilds exactly the same state by
replaying the partition: the traffic log is the changelog. Eviction is driven by the data (each
time the watermark enters a new hour), so it happens at the same points on every replay.
"""

from __future__ import annotations

from app.hotpath.traffic import TrafficEvent
from app.ieg import GRAPH_FEATURE_SET, EntityGraph, Observation
from app.ofp import FEATURE_SET as OFP_FEATURE_SET
from app.ofp import FeatureState, Txn
from app.ofp.snapshot import build_snapshot
from app.ofp.trigger_features import TXN_FEATURE_SET, trigger_features
from app.rails.decision import DecisionOutcome, FeatureSnapshot
from app.rails.payloads import AuthRequestV1
from app.rails.posture import Posture

__all__ = ["Shard"]

_EVICT_FEATURES_EVERY_US = 3_600_000_000
"""OFP evicts from a time-ordered heap: cheap, so every event-time hour."""
_EVICT_GRAPH_EVERY_US = 24 * 3_600_000_000
"""IEG eviction scans every edge, so once per event-time day (state stays under retention + 1 d)."""


class Shard:
    """Feature and graph state of (run_id, traffic partition)."""

    def __init__(self, run_id: str, topic: str, partition: int, *,
                 allowed_lateness_us: int) -> None:
        self.run_id = run_id
        self.basis_key = f"{topic}|{partition}"
        self.topic, self.partition = topic, partition
        self.features = FeatureState(allowed_lateness_us=allowed_lateness_us)
        self.graph = EntityGraph()
        self._features_bucket: int | None = None
        self._graph_bucket: int | None = None
        self.applied = 0

    def snapshot(self, event: TrafficEvent, auth: AuthRequestV1, posture: Posture
                 ) -> FeatureSnapshot:
        """Features as of the trigger (strictly earlier events only), for this posture."""
        ofp_values, complete = self.features.features(_txn(event, auth))
        values = dict(ofp_values)
        values.update(trigger_features(auth, event.ts_us))
        feature_sets = [OFP_FEATURE_SET, TXN_FEATURE_SET]
        graph_version = None
        if posture.uses_graph:
            values.update(self.graph.link_features(event.entities, event.ts_us))
            feature_sets.append(GRAPH_FEATURE_SET)
            graph_version = self.graph.graph_version()
        return build_snapshot(
            feature_sets=tuple(sorted(feature_sets)), as_of=event.envelope.ts_utc, values=values,
            input_basis={self.basis_key: event.eb_ref.offset}, graph_version=graph_version,
            complete=complete)

    def apply(self, event: TrafficEvent, outcome: DecisionOutcome | None = None) -> None:
        """Fold one admitted event in (after its decision, if it triggered one)."""
        if isinstance(event.payload, AuthRequestV1):
            self.features.apply(_txn(event, event.payload, outcome))
        self.graph.apply(Observation(ts_us=event.ts_us, entities=event.entities))
        self.graph.note_offset(self.topic, self.partition, event.eb_ref.offset + 1)
        self.applied += 1
        watermark = self.graph.watermark_us
        if watermark is None:
            return
        if watermark // _EVICT_FEATURES_EVERY_US != self._features_bucket:
            self._features_bucket = watermark // _EVICT_FEATURES_EVERY_US
            self.features.evict()
        if watermark // _EVICT_GRAPH_EVERY_US != self._graph_bucket:
            self._graph_bucket = watermark // _EVICT_GRAPH_EVERY_US
            self.graph.evict()


def _txn(event: TrafficEvent, auth: AuthRequestV1,
         outcome: DecisionOutcome | None = None) -> Txn:
    return Txn(ts_us=event.ts_us, amount_minor=auth.amount_minor, card_id=auth.card_id,
               account_id=auth.account_id, customer_id=auth.customer_id,
               device_id=auth.device_id, ip_id=auth.ip_id, merchant_id=auth.merchant_id,
               declined=outcome is DecisionOutcome.DECLINE,
               stepped_up=outcome is DecisionOutcome.STEP_UP)

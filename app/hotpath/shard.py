"""One run's hot-path state on one traffic partition: the entity graph and the feature windows.

State is a pure fold of the partition's admitted traffic (never of the platform's own
outcomes: features are not self-feedback), so a worker that takes a partition over rebuilds
exactly the same state by replaying the partition: the traffic log is the changelog. Eviction
is driven by the data (each time the watermark enters a new hour), so it happens at the same
points on every replay.

The watermark is the shard's :class:`~app.hotpath.event_clock.EventClock`, shared by the feature
windows and the graph: no single event can move it more than ``max_clock_advance_us`` (issue #11
item 1), while every event is still applied at its own time. Events the clock held (a lone event
far ahead, judged two events later: ``last_held`` names it) and authorisations too old to retain
(``not_retained``) are counted here.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel

from app.hotpath.event_clock import EventClock
from app.hotpath.traffic import TrafficEvent
from app.ieg import EntityGraph, Observation
from app.ofp import GRAPH_FAMILY, OFP_FAMILY, REGISTRY, TXN_FAMILY, FeatureState, txn_of
from app.ofp.snapshot import build_snapshot
from app.ofp.trigger_features import (
    declared_trigger_features,
    declared_txn_registry,
    trigger_features,
)
from app.ofp.txn import DEFAULT_SOURCE, Txn, txn_of_declared
from app.rails.decision import DecisionOutcome, FeatureSetRef, FeatureSnapshot
from app.rails.payloads import AuthRequestV1
from app.rails.posture import Posture

__all__ = ["Shard"]

# Provenance of a snapshot's values: each family by the digest of its definitions (sorted).
_SETS_WITHOUT_GRAPH = tuple(REGISTRY.feature_set(f) for f in sorted((OFP_FAMILY, TXN_FAMILY)))
_SETS_WITH_GRAPH = tuple(
    REGISTRY.feature_set(f) for f in sorted((OFP_FAMILY, TXN_FAMILY, GRAPH_FAMILY)))

_EMPTY_CHAIN = hashlib.sha256(b"").hexdigest()
_EVICT_FEATURES_EVERY_US = 3_600_000_000
"""OFP evicts from a time-ordered heap: cheap, so every event-time hour."""
_EVICT_GRAPH_EVERY_US = 24 * 3_600_000_000
"""IEG eviction scans every edge, so once per event-time day (state stays under retention + 1 d)."""


class Shard:
    """Feature and graph state of (run_id, traffic partition)."""

    def __init__(self, run_id: str, topic: str, partition: int, *,
                 allowed_lateness_us: int, max_clock_advance_us: int) -> None:
        self.run_id = run_id
        # What a snapshot was computed from, partition-independent (issue #12): how many events
        # were applied and a chained digest of their ids in the order applied (the fold's order
        # is a function of the run's traffic alone, so equal inputs give an equal chain).
        self.topic, self.partition = topic, partition
        self.chain = b""
        self.clock = EventClock(max_clock_advance_us)
        self.features = FeatureState(allowed_lateness_us=allowed_lateness_us, external_clock=True)
        self.graph = EntityGraph(external_clock=True)
        # One held event moves the clock by up to the bound: the graph keeps that much more, so
        # an edge a trigger's "total"/"new" look-back needs is never evicted by it.
        self._graph_horizon_us = self.graph.retention_us + max_clock_advance_us
        self._features_bucket: int | None = None
        self._graph_bucket: int | None = None
        self.applied = 0
        self.not_retained = 0
        self._recent: tuple[TrafficEvent | None, TrafficEvent | None] = (None, None)
        self.last_held: TrafficEvent | None = None

    def snapshot(self, event: TrafficEvent, auth: BaseModel, posture: Posture
                 ) -> FeatureSnapshot:
        """Features as of the trigger (strictly earlier events only), for this posture.

        ``auth`` is an :class:`AuthRequestV1`, or an imported transaction read with its
        declared contract (``event.declared``): then the ``txn`` family is extended with the
        import's declared features (``txn.<name>``) and named by that extended set's digest.
        """
        contract = event.declared
        ofp_values, complete = self.features.features(_txn(event, auth))
        values = dict(ofp_values)
        feature_sets = _SETS_WITHOUT_GRAPH
        if contract is None:
            assert isinstance(auth, AuthRequestV1)
            values.update(trigger_features(auth, event.ts_us))
        else:
            _, txn_set, used = declared_txn_registry(contract.features)
            values.update(declared_trigger_features(auth, used, event.ts_us))
            feature_sets = _with_txn_set(_SETS_WITHOUT_GRAPH, txn_set)
        graph_version = None
        if posture.uses_graph:
            values.update(self.graph.link_features(event.entities, event.ts_us))
            feature_sets = _SETS_WITH_GRAPH if contract is None else _with_txn_set(
                _SETS_WITH_GRAPH, txn_set)
            graph_version = self.chain.hex() or _EMPTY_CHAIN
        return build_snapshot(
            feature_sets=feature_sets, as_of=event.envelope.ts_utc, values=values,
            input_basis={"events_applied": self.applied}, graph_version=graph_version,
            complete=complete)

    def apply(self, event: TrafficEvent, outcome: DecisionOutcome | None = None) -> int:
        """Fold one admitted event in (after its decision, if it triggered one).

        ``outcome`` is accepted and ignored: features no longer read the platform's own
        decisions (self-feedback, see ``app.ofp.registry``). Any event type that feeds a
        feature goes through the one extractor, ``txn_of``.

        Returns:
            How many events the clock newly judged held (0 or 1; the held one is the event
            applied two before this one, kept as ``last_held``).
        """
        event_type = DEFAULT_SOURCE if _feeds_as_auth(event) else event.envelope.event_type
        if self.features.fed_by(event_type) and not self.features.apply(
                _txn(event, event.payload)):
            self.not_retained += 1
        self.graph.apply(Observation(ts_us=event.ts_us, entities=event.entities))
        self.chain = hashlib.sha256(self.chain + event.envelope.event_id.encode()).digest()
        self.applied += 1
        held = self.clock.observe(event.ts_us)
        two_back, one_back = self._recent
        if held:
            self.last_held = two_back
        self._recent = (one_back, event)
        watermark = self.clock.watermark_us
        if watermark is None:
            return held
        self.features.advance_to(watermark)
        self.graph.advance_to(watermark)
        if watermark // _EVICT_FEATURES_EVERY_US != self._features_bucket:
            self._features_bucket = watermark // _EVICT_FEATURES_EVERY_US
            self.features.evict()
        if watermark // _EVICT_GRAPH_EVERY_US != self._graph_bucket:
            self._graph_bucket = watermark // _EVICT_GRAPH_EVERY_US
            self.graph.evict(self._graph_horizon_us)
        return held



def _feeds_as_auth(event: TrafficEvent) -> bool:
    """An imported world's transaction feeds the windows as an authorisation does."""
    contract = event.declared
    return contract is not None and contract.role == "business_traffic" \
        and "amount_minor" in contract.model.model_fields


def _txn(event: TrafficEvent, payload: BaseModel) -> Txn:
    if event.declared is not None:
        return txn_of_declared(payload, event.ts_us)
    return txn_of(event.envelope.event_type, payload, event.ts_us)


def _with_txn_set(sets: tuple[FeatureSetRef, ...], txn_set: FeatureSetRef
                  ) -> tuple[FeatureSetRef, ...]:
    """``sets`` with the ``txn`` family's ref replaced by an import's extended one."""
    return tuple(txn_set if ref.name == TXN_FAMILY else ref for ref in sets)

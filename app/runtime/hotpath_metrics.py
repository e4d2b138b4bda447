"""Hot-path metrics (golden signals): decisions, anomalies, latency, posture, state size.

Decision latency is wall time from the traffic record's broker timestamp (IG's admission) to the
decision's ack: the apply clock, never ``ts_utc``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.hotpath.engine import live_engines
from app.rails.posture import POSTURE_ORDER, Posture

__all__ = ["ANOMALIES", "DECISIONS", "DECISION_SECONDS", "EVENTS", "POSTURE", "SHARD_STATE",
           "EventTimeCollector", "set_posture"]

DECISIONS = Counter("fp_df_decisions_total", "Decisions emitted, by outcome and posture.",
                    ["outcome", "posture"])
EVENTS = Counter("fp_hotpath_events_total", "Traffic records applied by the hot path, by type.",
                 ["event_type"])
ANOMALIES = Counter("fp_hotpath_anomalies_total", "Traffic records with no decision, by reason.",
                    ["reason_code"])
DECISION_SECONDS = Histogram(
    "fp_df_decision_seconds", "Admission (traffic record timestamp) to decision ack, seconds.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POSTURE = Gauge("fp_dl_posture", "1 for the worker's current posture, 0 for the others.",
                ["posture"])
SHARD_STATE = Gauge("fp_hotpath_state_items", "Retained feature txns and graph edges.", ["kind"])


def set_posture(posture: Posture) -> None:
    for p in POSTURE_ORDER:
        POSTURE.labels(p.value).set(1.0 if p is posture else 0.0)


class EventTimeCollector(Collector):
    """``fp_hotpath_event_time_events{kind}``, read from the live engines' shards at scrape time.

    ``clock_held``: events further ahead of their shard's event-time clock than
    ``policy.decision.max_clock_advance_s`` (the clock followed them only that far; issue #11
    item 1); ``not_retained``: authorisations older than the feature eviction horizon;
    ``late``: events behind their partition's watermark (issue #12: applied at that watermark, a
    late trigger's decision says ``LATE_TRIGGER``); ``pending``: events waiting for the run's
    watermark. All are decided and applied all the same. A gauge over the run folds this worker
    holds: a pure function of what they applied, so a fold rebuilt after a rebalance counts the
    same, and a run that moves to another worker takes its count along.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "fp_hotpath_event_time_events",
            "Events of this worker's hot-path shards whose event time the shard clock held "
            "(clock_held), too old to retain (not_retained), behind their partition's watermark "
            "(late) or waiting for it (pending).", labels=["kind"])
        totals = {"clock_held": 0, "not_retained": 0, "late": 0, "pending": 0}
        for engine in live_engines():
            for kind, count in engine.event_time_counts().items():
                totals[kind] += count
        for kind, count in sorted(totals.items()):
            family.add_metric([kind], count)
        yield family


REGISTRY.register(EventTimeCollector())

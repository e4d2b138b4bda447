"""Hot-path metrics (golden signals): decisions, anomalies, latency, posture, state size.

Decision latency is wall time from the traffic record's broker timestamp (IG's admission) to the
decision's ack: the apply clock, never ``ts_utc``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from app.rails.posture import POSTURE_ORDER, Posture

__all__ = ["ANOMALIES", "DECISIONS", "DECISION_SECONDS", "EVENTS", "POSTURE", "SHARD_STATE",
           "set_posture"]

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

"""DLA metrics: chains audited, chains still open, segments written, anomalies, audit latency.

``fp_dla_chain_seconds`` is wall time from the decision record's bus timestamp to the segment
holding its chain being written: the apply clock, never ``ts_utc``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from app.dla.partition_log import Flushed

__all__ = ["ANOMALIES", "CHAINS", "CHAIN_SECONDS", "OPEN_CHAINS", "SEGMENTS", "observe_flush"]

CHAINS = Counter("fp_dla_chains_total", "Audit records appended, first records (closed) and "
                 "corrections (superseding).", ["state"])
OPEN_CHAINS = Gauge("fp_dla_open_chains", "Decision chains waiting for outcomes on this worker.")
SEGMENTS = Counter("fp_dla_segments_total", "Audit segment objects written.")
ANOMALIES = Counter("fp_dla_anomalies_total", "rtdl records in no chain, by reason.", ["reason"])
CHAIN_SECONDS = Histogram(
    "fp_dla_chain_seconds", "Decision record's bus timestamp to its audit segment written, s.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)


def observe_flush(flushed: Flushed, now_s: float) -> None:
    """Count one written segment; ``now_s`` is the wall clock after the write."""
    SEGMENTS.inc()
    for closed in flushed.closed:
        CHAINS.labels("superseding" if closed.superseding else "closed").inc()
        if closed.decision_published_s and not closed.superseding:
            CHAIN_SECONDS.observe(max(0.0, now_s - closed.decision_published_s))
    for anomaly in flushed.anomalies:
        ANOMALIES.labels(str(anomaly.reason_code)).inc()

"""IG and WSP metrics: receipts by decision, event type and reason; admission latency; WSP progress.

Admission latency is wall time from the ingress record's broker timestamp (when the submission
was queued) to the receipt: the ingestion clock, never ``ts_utc``.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

from app.rails.receipts import IngestionReceipt

__all__ = ["ADMISSION_SECONDS", "RECEIPTS", "WSP_LAG_SECONDS", "WSP_ROWS", "observe_receipt"]

RECEIPTS = Counter(
    "fp_ig_receipts_total", "IG receipts by decision, event type and reason code.",
    ["decision", "event_type", "reason_code"],
)
ADMISSION_SECONDS = Histogram(
    "fp_ig_admission_seconds", "Ingress queueing to receipt, seconds (wall clock).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
WSP_ROWS = Counter("fp_wsp_rows_streamed_total", "Rows WSP framed and queued for IG.",
                   ["output_id"])
WSP_LAG_SECONDS = Gauge("fp_wsp_plan_lag_seconds",
                        "How far WSP is behind its paced plan (0 when unpaced), seconds.",
                        ["run_id"])


def observe_receipt(receipt: IngestionReceipt, queued_at_s: float | None) -> None:
    """Count one receipt and, when the ingress timestamp (epoch seconds) is known, its latency."""
    reason = receipt.reason_codes[0].value if receipt.reason_codes else ""
    RECEIPTS.labels(receipt.decision.value, receipt.event_type or "-", reason).inc()
    if queued_at_s:
        ADMISSION_SECONDS.observe(max(0.0, time.time() - queued_at_s))

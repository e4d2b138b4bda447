"""Prometheus metrics shared by every agent, and the ``/metrics`` page of the worker.

Golden signals per agent: events processed, events failed (caught at the agent boundary), and
processing latency. Metric and label names are stable: dashboards depend on them.
"""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

__all__ = ["AGENT_ERRORS", "AGENT_EVENTS", "AGENT_LATENCY", "mount_metrics"]

AGENT_EVENTS = Counter(
    "fp_agent_events_total", "Events an agent finished processing.", ["agent", "topic"]
)
AGENT_ERRORS = Counter(
    "fp_agent_errors_total",
    "Events an agent could not process (recorded and skipped).",
    ["agent", "topic", "reason_code"],
)
AGENT_LATENCY = Histogram(
    "fp_agent_event_seconds",
    "Processing time per event inside an agent, seconds.",
    ["agent"],
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


def mount_metrics(app: faust.App) -> None:
    """Serve the process's metrics at ``GET /metrics`` on the worker's web server."""

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # aiohttp refuses a charset inside content_type, so pass the bare media type.
        media_type = CONTENT_TYPE_LATEST.split(";")[0]
        return web.bytes(generate_latest(), content_type=media_type)

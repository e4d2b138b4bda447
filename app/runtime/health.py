"""``GET /v1/health``: is this worker connected, assigned and done recovering its tables?

Supervisors (``fp demo``, tests, orchestrators' readiness probes) wait on ``ready``. A broker
the watch (:mod:`app.runtime.broker_watch`) believes lost makes the worker not ready at once,
whatever the consumer still believes it is assigned; ``broker_lost`` names why.
"""

from __future__ import annotations

from typing import Any

import faust

from app.runtime.broker_watch import broker_lost_reason

__all__ = ["health_of", "mount_health"]


def health_of(app: faust.App) -> dict[str, Any]:
    """Readiness facts of a running app (read-only)."""
    assigned = sorted({(tp.topic, tp.partition) for tp in app.consumer.assignment()})
    rebalancing = bool(app.rebalancing)
    recovering = bool(app.in_recovery)
    lost = broker_lost_reason(app)
    return {
        "app_id": app.conf.id,
        "ready": bool(assigned) and not rebalancing and not recovering and lost is None,
        "broker_lost": lost,
        "rebalancing": rebalancing,
        "in_recovery": recovering,
        "assigned": [f"{topic}:{partition}" for topic, partition in assigned],
    }


def mount_health(app: faust.App) -> None:
    """Serve :func:`health_of` at ``GET /v1/health`` (HTTP 503 while not ready)."""

    @app.page("/v1/health")
    async def health(web: Any, request: Any) -> Any:
        body = health_of(app)
        return web.json(body, status=200 if body["ready"] else 503)

"""``GET /v1/graph/{kind}/{entity_id}`` and ``GET /v1/features`` on a worker (read-only)."""

from __future__ import annotations

from typing import Any

import faust

from app.hotpath.engine import HotPath
from app.hotpath.queries import QueryError, feature_query, graph_query

__all__ = ["mount_hotpath_api"]


def mount_hotpath_api(app: faust.App, engine: HotPath, partitions: int) -> None:
    @app.page("/v1/graph/{kind}/{entity_id}")
    async def graph_view(web: Any, request: Any, kind: str, entity_id: str) -> Any:
        try:
            return web.json(graph_query(engine, dict(request.query), kind, entity_id))
        except QueryError as exc:
            return web.json({"error": str(exc)}, status=exc.status)

    @app.page("/v1/features")
    async def features_view(web: Any, request: Any) -> Any:
        try:
            return web.json(feature_query(engine, dict(request.query), partitions))
        except QueryError as exc:
            return web.json({"error": str(exc)}, status=exc.status)

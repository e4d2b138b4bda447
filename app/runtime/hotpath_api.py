"""``GET /v1/graph/{kind}/{entity_id}`` and ``GET /v1/features`` on a worker (read-only).

Errors are the platform's JSON error, ``{"error": <code>, "detail": <text>}``: 400
``QUERY_INVALID`` for a bad parameter (app/hotpath/queries.py), 404 ``NOT_FOUND`` for state this
worker does not hold. A repeated parameter is invalid too (which value would count?).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import faust

from app.hotpath.engine import HotPath
from app.hotpath.queries import QueryError, feature_query, graph_query

__all__ = ["mount_hotpath_api"]


def mount_hotpath_api(app: faust.App, engine: HotPath) -> None:
    @app.page("/v1/graph/{kind}/{entity_id}")
    async def graph_view(web: Any, request: Any, kind: str, entity_id: str) -> Any:
        try:
            return web.json(graph_query(engine, _single(request.query), kind, entity_id))
        except QueryError as exc:
            return web.json(exc.body(), status=exc.status)

    @app.page("/v1/features")
    async def features_view(web: Any, request: Any) -> Any:
        try:
            return web.json(feature_query(engine, _single(request.query)))
        except QueryError as exc:
            return web.json(exc.body(), status=exc.status)


def _single(query: Any) -> dict[str, str]:
    """The query string as one value per name; a name given twice is a 400."""
    repeated = sorted(n for n, count in Counter(query.keys()).items() if count > 1)
    if repeated:
        raise QueryError(400, f"query parameter(s) given more than once: {', '.join(repeated)}")
    return dict(query)

"""IEG's errors: a query that names something the graph cannot hold.

    FraudPlatformError (app.rails.errors)
    └── GraphQueryError     unknown entity kind, or an Observation that is not well formed

A malformed *event* is caught earlier (IG quarantines it); these errors mean a caller bug or a bad
HTTP query, so they carry a stable reason code the HTTP layer can map to 400.
"""

from __future__ import annotations

from app.rails.errors import FraudPlatformError

__all__ = ["GraphQueryError"]


class GraphQueryError(FraudPlatformError):
    """A graph call named an unknown kind or passed a malformed value; ``field`` says which."""

    reason_code = "GRAPH_QUERY_INVALID"

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"entity graph: {field}: {problem}; fix the caller (graph unchanged)")

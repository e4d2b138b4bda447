"""Identity & Entity Graph (IEG): the pure co-occurrence projection and its as-of queries.

No faust, broker, clock or I/O here; the agent in ``app/agents/`` feeds observations and offsets.
"""

from app.ieg.edge import Edge
from app.ieg.errors import GraphQueryError
from app.ieg.graph import (
    DEFAULT_AS_OF_TOLERANCE_US,
    DEFAULT_RETENTION_US,
    EntityGraph,
)
from app.ieg.graph_version import GRAPH_VERSION_TAG, OffsetVector
from app.ieg.link_features import LINK_FEATURE_NAMES, link_features
from app.ieg.observation import EDGE_KIND_PAIRS, ENTITY_KINDS, NEIGHBOUR_KINDS, Observation

__all__ = [
    "DEFAULT_AS_OF_TOLERANCE_US",
    "DEFAULT_RETENTION_US",
    "EDGE_KIND_PAIRS",
    "ENTITY_KINDS",
    "GRAPH_VERSION_TAG",
    "LINK_FEATURE_NAMES",
    "NEIGHBOUR_KINDS",
    "Edge",
    "EntityGraph",
    "GraphQueryError",
    "Observation",
    "OffsetVector",
    "link_features",
]

"""The entity graph: a pure projection of admitted traffic into co-occurrence edges.

IEG owns one truth: which entities were seen together, when first and last, and how often, as of
a stated offset vector (``graph_version``) and event time (``watermark_us``). Nothing here reads a
clock, the broker or a table: the agent feeds :class:`Observation` values and offsets in, and the
same stream always yields the same graph, version and answers (replay gives identical state).

As-of rule: a query "as of T" sees only occurrences with ``ts < T`` (an event never sees itself).
Answers are exact for ``T >= watermark_us - tolerance_us``; earlier ones are best-effort
(:meth:`EntityGraph.is_exact` says which). Adjacency is grouped by neighbour kind, so a degree
query reads only the neighbours of the kind asked for. With ``external_clock=True`` the owner
drives the watermark (:meth:`EntityGraph.advance_to`), e.g. the hot path's shard clock, which no
single implausible event can move far (issue #11 item 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from app.ieg.edge import Edge
from app.ieg.errors import GraphQueryError
from app.ieg.graph_version import OffsetVector
from app.ieg.link_features import link_features
from app.ieg.observation import EDGE_KIND_PAIRS, ENTITY_KINDS, Observation
from app.ieg.queries import degree, neighbours

__all__ = [
    "DEFAULT_AS_OF_TOLERANCE_US",
    "DEFAULT_RETENTION_US",
    "EntityGraph",
]

DEFAULT_RETENTION_US: Final[int] = 30 * 24 * 3600 * 1_000_000
"""How long an edge outlives its last occurrence (30 days of event time)."""

DEFAULT_AS_OF_TOLERANCE_US: Final[int] = 60 * 1_000_000
"""How far behind the watermark an as-of query stays exact: covers the skew between partitions
consumed by one worker. Larger values keep more occurrence times per busy edge."""

_PAIRS_BY_FIRST: Final[tuple[tuple[str, tuple[str, ...]], ...]] = tuple(
    (ka, tuple(b for a, b in EDGE_KIND_PAIRS if a == ka))
    for ka in dict.fromkeys(a for a, _ in EDGE_KIND_PAIRS)
)
"""EDGE_KIND_PAIRS grouped by first kind, so apply looks each first node up once."""

_NO_EDGE_US: Final[int] = 2**63 - 1
"""The floor of a graph without edges: no cutoff reaches it."""

_Node = dict[str, dict[str, Edge]]
"""neighbour kind -> neighbour id -> edge."""


class EntityGraph:
    """Mutable co-occurrence graph with strict as-of queries; see the module doc.

    Args:
        retention_us: event-time horizon for :meth:`evict` and for the ``*_total`` / ``*_new``
            link features (so eviction never changes them).
        tolerance_us: how far behind the watermark as-of answers stay exact.
        external_clock: the watermark moves only by :meth:`advance_to`, not by ``apply``.
    """

    __slots__ = ("_adj", "_edges", "_external", "_floor_us", "_offsets", "_retention_us",
                 "_tolerance_us", "_watermark_us")

    def __init__(
        self,
        *,
        retention_us: int = DEFAULT_RETENTION_US,
        tolerance_us: int = DEFAULT_AS_OF_TOLERANCE_US,
        external_clock: bool = False,
    ) -> None:
        if type(retention_us) is not int or retention_us <= 0:
            raise GraphQueryError("retention_us", f"must be an int > 0, got {retention_us!r:.20}")
        if type(tolerance_us) is not int or tolerance_us < 0:
            raise GraphQueryError("tolerance_us", f"must be an int >= 0, got {tolerance_us!r:.20}")
        self._retention_us = retention_us
        self._tolerance_us = tolerance_us
        self._adj: dict[str, dict[str, _Node]] = {kind: {} for kind in ENTITY_KINDS}
        self._edges = 0
        # A lower bound of every edge's ``last_us`` (which only grows): an eviction whose cutoff
        # is at or below it has nothing to drop, so it skips the O(edges) scan (issue #13).
        self._floor_us = _NO_EDGE_US
        self._watermark_us: int | None = None
        self._external = external_clock
        self._offsets = OffsetVector()

    # -- writes ---------------------------------------------------------------------------------

    def apply(self, obs: Observation) -> None:
        """Add one occurrence to each edge between the kinds ``obs`` names (hot loop).

        Not idempotent by itself: the agent applies each offset once and records it with
        :meth:`note_offset`, which is what makes a replay land on the same state and version.
        """
        ts = obs.ts_us
        ents = obs.entities
        if not self._external and (self._watermark_us is None or ts > self._watermark_us):
            self._watermark_us = ts
        tol = self._tolerance_us
        cut = ts - tol
        adj = self._adj
        for ka, kbs in _PAIRS_BY_FIRST:
            a = ents.get(ka)
            if not a:
                continue
            nodes_a = adj[ka]
            node_a = None
            for kb in kbs:
                b = ents.get(kb)
                if not b:
                    continue
                if node_a is None:
                    node_a = nodes_a.get(a)
                    if node_a is None:
                        node_a = nodes_a[a] = {}
                row = node_a.get(kb)
                if row is None:
                    row = node_a[kb] = {}
                e = row.get(b)
                if e is None:
                    e = row[b] = Edge(ts)
                    if ts < self._floor_us:
                        self._floor_us = ts
                    nodes_b = adj[kb]
                    node_b = nodes_b.get(b)
                    if node_b is None:
                        nodes_b[b] = {ka: {a: e}}
                    else:
                        back = node_b.get(ka)
                        if back is None:
                            node_b[ka] = {a: e}
                        else:
                            back[a] = e
                    self._edges += 1
                elif cut > e.last_us and e.mid is None:
                    # In order and past the band: the common case, inlined from Edge.add.
                    e.anchor_us = e.last_us
                    e.last_us = ts
                    e.n_last = 1
                    e.count += 1
                else:
                    e.add(ts, tol)

    def advance_to(self, watermark_us: int) -> None:
        """Move the watermark to ``watermark_us`` if that is later (the external clock's value);
        eviction stays the owner's call (:meth:`evict`)."""
        if self._watermark_us is None or watermark_us > self._watermark_us:
            self._watermark_us = watermark_us

    def note_offset(self, topic: str, partition: int, next_offset: int) -> None:
        """Record the applied offset of a partition (monotone: keeps the max)."""
        self._offsets.note(topic, partition, next_offset)

    def evict(self, horizon_us: int | None = None) -> int:
        """Drop edges whose last occurrence is before the cutoff, then nodes left without edges.

        The cutoff is ``watermark - tolerance - horizon`` (event time only, so every replica
        evicts alike). Exact queries with a window no longer than ``horizon_us`` answer the same
        before and after. Cost is O(edges) when the cutoff passes the oldest last occurrence (kept
        as a floor), else O(1): call it every so often, not per event.

        Returns:
            The number of edges dropped.
        """
        horizon = self._retention_us if horizon_us is None else horizon_us
        if type(horizon) is not int or horizon < 0:
            raise GraphQueryError("horizon_us", f"must be an int >= 0, got {horizon!r:.20}")
        if self._watermark_us is None:
            return 0
        cutoff = self._watermark_us - self._tolerance_us - horizon
        if cutoff <= self._floor_us:
            return 0  # every edge's last occurrence is at or after the cutoff
        adj = self._adj
        dropped = 0
        floor = _NO_EDGE_US
        for ka, kb in EDGE_KIND_PAIRS:  # each edge once: in its first kind's row
            nodes_b = adj[kb]
            for a, node_a in adj[ka].items():
                row = node_a.get(kb)
                if not row:
                    continue
                stale: list[str] = []
                for b, e in row.items():
                    last = e.last_us
                    if last < cutoff:
                        stale.append(b)
                    elif last < floor:
                        floor = last
                for b in stale:
                    del row[b]
                    back = nodes_b[b][ka]
                    del back[a]
                    if not back:
                        del nodes_b[b][ka]
                if not row:
                    del node_a[kb]
                dropped += len(stale)
        for nodes in adj.values():
            for entity_id in [i for i, node in nodes.items() if not node]:
                del nodes[entity_id]
        self._floor_us = floor
        self._edges -= dropped
        return dropped

    # -- state and identity ---------------------------------------------------------------------

    @property
    def watermark_us(self) -> int | None:
        """Largest event time applied (None before the first observation), or the external
        clock's value; never decreases."""
        return self._watermark_us

    @property
    def retention_us(self) -> int:
        """Event-time horizon of :meth:`evict` and of the "total" / "new" link features."""
        return self._retention_us

    @property
    def tolerance_us(self) -> int:
        """How far behind the watermark as-of answers stay exact."""
        return self._tolerance_us

    def graph_version(self) -> str:
        """hex64 id of the applied offset vector (see :mod:`app.ieg.graph_version`)."""
        return self._offsets.version()

    def offsets(self) -> dict[str, int]:
        """The applied offset vector, ``{"<topic>|<partition>": next_offset}``."""
        return self._offsets.as_dict()

    def is_exact(self, as_of_us: int) -> bool:
        """Whether answers as of ``as_of_us`` are exact (else best-effort, see the module doc)."""
        wm = self._watermark_us
        return wm is None or as_of_us >= wm - self._tolerance_us

    def basis(self, as_of_us: int) -> dict[str, Any]:
        """Provenance for an answer as of ``as_of_us``: version, watermark and exactness."""
        return {
            "as_of_us": as_of_us,
            "exact": self.is_exact(as_of_us),
            "graph_version": self.graph_version(),
            "watermark_us": self._watermark_us,
        }

    def stats(self) -> dict[str, Any]:
        """Sizes for metrics: nodes per kind, edges, watermark, partitions applied."""
        return {
            "edges": self._edges,
            "nodes": {kind: len(nodes) for kind, nodes in self._adj.items()},
            "partitions": len(self._offsets.as_dict()),
            "watermark_us": self._watermark_us,
        }

    # -- queries --------------------------------------------------------------------------------

    def node(self, kind: str, entity_id: str) -> Mapping[str, Mapping[str, Edge]]:
        """Read-only view of one node: neighbour kind -> neighbour id -> edge (empty if unknown).

        No copy, so callers must not mutate it; the rows are live.
        """
        nodes = self._adj.get(kind)
        if nodes is None:
            raise GraphQueryError("kind", f"unknown entity kind {kind!r:.40}")
        return nodes.get(entity_id, _EMPTY_NODE)

    def adjacent(self, kind: str, entity_id: str, neighbour_kind: str) -> Mapping[str, Edge]:
        """Read-only view of one node's edges to ``neighbour_kind`` (empty if none); no copy."""
        return self.node(kind, entity_id).get(neighbour_kind, _EMPTY)

    def neighbours(
        self,
        kind: str,
        entity_id: str,
        /,
        *,
        as_of_us: int | None = None,
        kinds: set[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Neighbours of ``(kind, entity_id)``, sorted by (kind, id); O(degree), not for hot loops.

        Args:
            as_of_us: None for everything applied; else only occurrences with ``ts < as_of_us``
                count (``first_seen_us``, ``last_seen_us`` and ``count`` are as of that time).
            kinds: restrict to these neighbour kinds.
        """
        return neighbours(self, kind, entity_id, as_of_us=as_of_us, kinds=kinds)

    def degree(
        self,
        kind: str,
        entity_id: str,
        neighbour_kind: str,
        /,
        *,
        as_of_us: int,
        window_us: int | None = None,
    ) -> int:
        """Distinct ``neighbour_kind`` neighbours with an occurrence in ``[as_of - window, as_of)``.

        ``window_us=None`` means any retained occurrence before ``as_of_us``. Reads only the
        neighbours of ``neighbour_kind``: O(that degree).
        """
        return degree(self, kind, entity_id, neighbour_kind, as_of_us=as_of_us, window_us=window_us)

    def link_features(
        self, entities: Mapping[str, str | None], as_of_us: int
    ) -> dict[str, int | bool | None]:
        """The ``graph.*`` link features for one decision; see :mod:`app.ieg.link_features`."""
        return link_features(self, entities, as_of_us)

    # -- dump / load ----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """JSON-able snapshot (edges sorted, so equal graphs dump to equal canonical JSON)."""
        edges: list[list[Any]] = []
        for ka, kb in EDGE_KIND_PAIRS:
            for a in sorted(self._adj[ka]):
                row = self._adj[ka][a].get(kb)
                if row:
                    edges.extend([ka, a, kb, b, *row[b].to_state()] for b in sorted(row))
        return {
            "edges": edges,
            "offsets": self._offsets.as_dict(),
            "retention_us": self._retention_us,
            "tolerance_us": self._tolerance_us,
            "watermark_us": self._watermark_us,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> EntityGraph:
        """Rebuild a graph from :meth:`to_state` output."""
        graph = cls(retention_us=state["retention_us"], tolerance_us=state["tolerance_us"])
        graph._watermark_us = state["watermark_us"]
        graph._offsets = OffsetVector(state["offsets"])
        adj = graph._adj
        for ka, a, kb, b, *edge_state in state["edges"]:
            e = Edge.from_state(edge_state)
            adj[ka].setdefault(a, {}).setdefault(kb, {})[b] = e
            adj[kb].setdefault(b, {}).setdefault(ka, {})[a] = e
            if e.last_us < graph._floor_us:
                graph._floor_us = e.last_us
        graph._edges = len(state["edges"])
        return graph


_EMPTY: Mapping[str, Edge] = MappingProxyType({})
_EMPTY_NODE: Mapping[str, Mapping[str, Edge]] = MappingProxyType({})

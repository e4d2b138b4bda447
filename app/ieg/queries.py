"""Neighbourhood and degree queries over an :class:`~app.ieg.graph.EntityGraph`, strictly as of.

Pure reads through the graph's public node view, also served at ``GET /v1/graph/...``. Results
are plain JSON values in a deterministic order, so two replicas at the same ``graph_version``
answer byte for byte alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.ieg.edge import Edge
from app.ieg.errors import GraphQueryError
from app.ieg.observation import NEIGHBOUR_KINDS, check_kind

if TYPE_CHECKING:
    from app.ieg.graph import EntityGraph

__all__ = ["count_seen", "degree", "neighbours"]


def neighbours(
    graph: EntityGraph,
    kind: str,
    entity_id: str,
    *,
    as_of_us: int | None = None,
    kinds: set[str] | None = None,
) -> list[dict[str, Any]]:
    """See :meth:`EntityGraph.neighbours`; O(degree), so not for the hot loop."""
    check_kind(kind)
    wanted = NEIGHBOUR_KINDS[kind]
    if kinds is not None:
        for k in kinds:
            check_kind(k, "kinds")
        wanted = wanted & frozenset(kinds)
    node = graph.node(kind, entity_id)
    out: list[dict[str, Any]] = []
    for nkind in sorted(wanted):
        row = node.get(nkind)
        if not row:
            continue
        for nid in sorted(row):
            e = row[nid]
            if as_of_us is None:
                last, count = e.last_us, e.count
            else:
                seen = e.latest_before(as_of_us)
                if seen is None:
                    continue
                last, count = seen, e.count_before(as_of_us)
            out.append(
                {
                    "count": count,
                    "first_seen_us": e.first_us,
                    "id": nid,
                    "kind": nkind,
                    "last_seen_us": last,
                }
            )
    return out


def degree(
    graph: EntityGraph,
    kind: str,
    entity_id: str,
    neighbour_kind: str,
    *,
    as_of_us: int,
    window_us: int | None = None,
) -> int:
    """See :meth:`EntityGraph.degree`; reads only the ``neighbour_kind`` row."""
    check_kind(kind)
    check_kind(neighbour_kind, "neighbour_kind")
    if window_us is not None and (type(window_us) is not int or window_us < 0):
        raise GraphQueryError("window_us", f"must be an int >= 0, got {window_us!r:.20}")
    row = graph.adjacent(kind, entity_id, neighbour_kind)
    return count_seen(row, as_of_us, None if window_us is None else as_of_us - window_us)


def count_seen(row: Mapping[str, Edge], as_of_us: int, lo_us: int | None) -> int:
    """How many edges of ``row`` occur in ``[lo_us, as_of_us)`` (unbounded below if None)."""
    n = 0
    for e in row.values():
        seen = e.latest_before(as_of_us)
        if seen is not None and (lo_us is None or seen >= lo_us):
            n += 1
    return n

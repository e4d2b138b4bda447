"""``graph_version``: the identity of a graph state, as the id of the offset vector applied.

Two projections that applied the same offsets of the same partitions hold the same graph, whatever
the interleaving across partitions, so the version is ``make_id("graph_version", vector)`` over
``{"<topic>|<partition>": next_offset}``. Canonical JSON sorts the keys, which makes the version
independent of the order offsets were noted in. DF records it in each decision's provenance.
"""

from __future__ import annotations

from app.ieg.errors import GraphQueryError
from app.rails.ids import make_id

__all__ = ["GRAPH_VERSION_TAG", "OffsetVector"]

GRAPH_VERSION_TAG = "graph_version"
"""Id tag; a wire contract (renaming it changes every graph_version)."""


class OffsetVector:
    """Per-partition next offset applied; monotone, so a redelivered old offset changes nothing."""

    __slots__ = ("_offsets", "_version")

    def __init__(self, offsets: dict[str, int] | None = None) -> None:
        self._offsets: dict[str, int] = dict(offsets or {})
        self._version: str | None = None

    def note(self, topic: str, partition: int, next_offset: int) -> None:
        """Record that everything before ``next_offset`` of ``topic``/``partition`` is applied."""
        if not isinstance(topic, str) or not topic or "|" in topic:
            raise GraphQueryError("topic", f"must be a non-empty name without '|': {topic!r:.60}")
        if type(partition) is not int or partition < 0:
            raise GraphQueryError("partition", f"must be an int >= 0, got {partition!r:.20}")
        if type(next_offset) is not int or next_offset < 0:
            raise GraphQueryError("next_offset", f"must be an int >= 0, got {next_offset!r:.20}")
        key = f"{topic}|{partition}"
        if next_offset > self._offsets.get(key, -1):
            self._offsets[key] = next_offset
            self._version = None

    def as_dict(self) -> dict[str, int]:
        """A copy of the vector, ``{"<topic>|<partition>": next_offset}``."""
        return dict(self._offsets)

    def version(self) -> str:
        """hex64 id of the vector; cached because DF asks for it on every decision."""
        if self._version is None:
            self._version = make_id(GRAPH_VERSION_TAG, self._offsets)
        return self._version

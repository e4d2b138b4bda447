"""The entity vocabulary of the IEG and the one input it projects: an ``Observation``.

An admitted traffic event (authorisation, clearing, refund, reversal) names up to one entity of each
kind. Which kind pairs become co-occurrence edges is fixed here, so the graph's shape is a
contract rather than a side effect of whichever payload fields happened to be filled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from app.ieg.errors import GraphQueryError
from app.ofp.entities import ENTITY_KINDS as _KINDS

__all__ = ["EDGE_KIND_PAIRS", "ENTITY_KINDS", "NEIGHBOUR_KINDS", "Observation", "check_kind"]

ENTITY_KINDS: Final[tuple[str, ...]] = tuple(sorted(_KINDS))
"""Every entity kind (declared in ``app.ofp.entities``), sorted; an entity is ``(kind, id)``."""

EDGE_KIND_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("card", "account"),
    ("card", "customer"),
    ("card", "device"),
    ("card", "ip"),
    ("card", "merchant"),
    ("account", "customer"),
    ("account", "device"),
    ("account", "ip"),
    ("customer", "device"),
    ("customer", "ip"),
    ("device", "ip"),
)
"""Kind pairs that co-occurrence links. Merchants link to cards only: a merchant sees thousands of
accounts, devices and IPs, and those edges would carry no signal while dominating memory."""

NEIGHBOUR_KINDS: Final[Mapping[str, frozenset[str]]] = {
    kind: frozenset(
        [b for a, b in EDGE_KIND_PAIRS if a == kind] + [a for a, b in EDGE_KIND_PAIRS if b == kind]
    )
    for kind in ENTITY_KINDS
}
"""For each kind, the kinds it can have edges to."""

_KIND_SET: Final[frozenset[str]] = frozenset(ENTITY_KINDS)


def check_kind(kind: object, field: str = "kind") -> str:
    """Return ``kind`` if it is an entity kind, else raise :class:`GraphQueryError`."""
    if not isinstance(kind, str) or kind not in _KIND_SET:
        raise GraphQueryError(field, f"unknown entity kind {kind!r:.40}; expected {ENTITY_KINDS}")
    return kind


@dataclass(frozen=True, slots=True)
class Observation:
    """The entities one admitted traffic event names, at its domain time.

    Attributes:
        ts_us: the event's ``ts_utc`` in microseconds since the epoch (domain time, not apply
            time).
        entities: kind -> id; a missing key, ``None`` or ``""`` all mean absent (e.g. no
            device for a card-present authorisation). Unknown kinds are refused so a typo cannot
            silently stop edges from forming.
    """

    ts_us: int
    entities: Mapping[str, str | None]

    def __post_init__(self) -> None:
        if type(self.ts_us) is not int:
            raise GraphQueryError("ts_us", f"must be int microseconds, got {self.ts_us!r:.40}")
        if not _KIND_SET.issuperset(self.entities):
            unknown = sorted(set(self.entities) - _KIND_SET)
            raise GraphQueryError("entities", f"unknown entity kinds {unknown}")

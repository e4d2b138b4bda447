"""The online fold's value layout, derived from the feature registry (nothing declared here).

The fold keeps one log per entity and *stream*: a stream is one entity kind fed by one set of
event types (the ``sources`` of its features), so features fed by refunds never see
authorisations and vice versa. For each stream the fold computes, per window (longest first, so
each window's start bounds the next search), the block ``(count, amount_sum, amount_max,
distinct...)``, then ``time_since_prev`` and the amount ratios if declared. That raw layout is
the full product of the stream's windows and aggregates; a slot no feature declares is named
``None`` here and dropped when the values are keyed by name (for the platform's registry every
slot is declared, so nothing is dropped on the hot path).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Final

from app.ofp.entities import ENTITY_KINDS, EntityKind
from app.ofp.registry import FeatureDef, FeatureRegistry
from app.ofp.windows import window_us
from app.rails.errors import ContractError

__all__ = ["BLOCK_AGGREGATES", "Layout", "StreamSpec", "layout_of"]

BLOCK_AGGREGATES: Final = ("count", "amount_sum", "amount_max")
"""Computed for every window of a stream, in this order, before its distinct counts."""
_EXTRAS: Final = ("time_since_prev", "amount_to_mean", "amount_zscore")


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What the fold computes for one (entity kind, sources) stream, in layout order."""

    kind: EntityKind
    id_field: str
    sources: tuple[str, ...]
    of_fields: tuple[str, ...]
    """Txn fields counted as distinct values (one log column each)."""
    windows_desc: tuple[int, ...]
    longest_us: int
    tsp: bool
    to_mean: bool
    zscore: bool
    zeros: tuple[int, ...]
    """One empty window's block."""
    all_zeros: tuple[int, ...]
    """Every window empty."""
    names: tuple[str | None, ...]
    """The raw layout: the feature name of each value emitted, None where none is declared."""


@dataclass(frozen=True, slots=True)
class Layout:
    streams: tuple[StreamSpec, ...]
    names: tuple[str | None, ...]
    """Every stream's raw layout, concatenated in stream order."""


def _stream(kind: EntityKind, sources: tuple[str, ...], defs: list[FeatureDef]) -> StreamSpec:
    of_kinds = [k for k in ENTITY_KINDS if any(d.of == k for d in defs)]
    windows = sorted({d.window for d in defs}, key=window_us, reverse=True)
    by_slot = {(d.window, d.aggregate, d.of): d.name for d in defs}
    names: list[str | None] = []
    for window in windows:
        names.extend(by_slot.get((window, agg, None)) for agg in BLOCK_AGGREGATES)
        names.extend(by_slot.get((window, "distinct", of)) for of in of_kinds)
    flags = {}
    for extra in _EXTRAS:
        found = [d for d in defs if d.aggregate == extra]
        for d in found:
            if d.window != windows[0]:
                raise ContractError(
                    f"feature {d.name!r}: the online fold computes {extra} only over its "
                    f"stream's longest window ({windows[0]}), not {d.window}")
        flags[extra] = bool(found)
        names.extend(d.name for d in found)
    zeros = (0,) * (len(BLOCK_AGGREGATES) + len(of_kinds))
    return StreamSpec(
        kind=kind, id_field=f"{kind}_id", sources=sources,
        of_fields=tuple(f"{k}_id" for k in of_kinds),
        windows_desc=tuple(window_us(w) for w in windows), longest_us=window_us(windows[0]),
        tsp=flags["time_since_prev"], to_mean=flags["amount_to_mean"],
        zscore=flags["amount_zscore"], zeros=zeros, all_zeros=zeros * len(windows),
        names=tuple(names))


@cache
def layout_of(registry: FeatureRegistry) -> Layout:
    """The fold's layout for ``registry`` (computed once per registry object).

    Raises:
        ContractError: a definition the online fold cannot compute (the brute force can).
    """
    groups: dict[tuple[EntityKind, tuple[str, ...]], list[FeatureDef]] = defaultdict(list)
    for d in registry.defs:
        groups[(d.entity_kind, d.sources)].append(d)
    order = {kind: i for i, kind in enumerate(ENTITY_KINDS)}
    streams = tuple(_stream(kind, sources, groups[(kind, sources)])
                    for kind, sources in sorted(groups, key=lambda g: (order[g[0]], g[1])))
    return Layout(streams=streams, names=tuple(n for s in streams for n in s.names))

"""The feature registry: every feature a snapshot can carry, declared once (issue #12).

Each windowed aggregate is one :class:`FeatureDef` (name, entity kind, window, aggregate, dtype,
description, and which event types feed it); the features that are not windows over an entity's
events (``txn.*`` of the trigger itself, ``graph.*`` entity-graph links) are one
:class:`FeatureDecl` each. Three things are driven by the same definitions, which is where
online/offline parity comes from: the online fold (``FeatureState`` derives its per-kind value
layout from them), the brute-force reference (``brute_force_features`` evaluates each definition
literally) and the offline rebuild (the fold run over the archive).

Identity: a feature family's :class:`~app.rails.decision.FeatureSetRef` carries the digest of the
canonical JSON of its definitions, and :attr:`FeatureRegistry.digest` covers them all, so any
change of a name, window, aggregate, source, type or description changes the identity and
nothing has to be bumped by hand. Bundles name the features they read; a bundle is compatible
when every one of them is provided here, so growing the registry never breaks an ACTIVE bundle.

Not declared, on purpose: *self-feedback* features (``declines_*``, ``step_ups_*``), windows fed
by DF's own outcomes. They made a feature a function of the model that decided earlier events
(two bundles would see different inputs, a shadow bundle could not be compared with the active
one on equal terms), and an offline rebuild would need the decision log besides the traffic.
Label-derived signals, read as of the trigger from the Label Store, are the principled
replacement. Nor is ``graph.device_distinct_cards_1h``: it was the twin of
``device.distinct_cards_1h``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from app.ofp.entities import ENTITY_KINDS, EntityKind
from app.ofp.txn import DEFAULT_SOURCE, FEEDABLE_EVENT_TYPES
from app.ofp.windows import WINDOWS, window_us
from app.rails.decision import FeatureSetRef
from app.rails.errors import ContractError
from app.rails.ids import make_id

__all__ = [
    "AGGREGATES",
    "GRAPH_FAMILY",
    "OFP_FAMILY",
    "REGISTRY",
    "TXN_FAMILY",
    "Aggregate",
    "Dtype",
    "FeatureDecl",
    "FeatureDef",
    "FeatureRegistry",
    "windowed",
]

Aggregate = Literal[
    "count", "amount_sum", "amount_max", "distinct", "time_since_prev", "amount_to_mean",
    "amount_zscore",
]
"""What a windowed feature computes over the entity's events in ``[T - window, T)``:

- ``count``, ``amount_sum``, ``amount_max`` (0 for an empty window);
- ``distinct``: how many different ids of the kind ``of`` those events name (None never counts);
- ``time_since_prev``: seconds since the latest of them (None when the window is empty);
- ``amount_to_mean``, ``amount_zscore``: the trigger's amount against their mean / population
  standard deviation (None when undefined); see ``app.ofp.windows`` for the exact formulas.
"""
AGGREGATES: Final[tuple[str, ...]] = Aggregate.__args__  # type: ignore[attr-defined]  # a Literal's members
Dtype = Literal["int", "float", "bool"]
"""The type of a value when present; every feature may also be None (no such entity, no data)."""
Family = Literal["ofp_core", "ieg_links", "txn"]

OFP_FAMILY: Final = "ofp_core"
GRAPH_FAMILY: Final = "ieg_links"
TXN_FAMILY: Final = "txn"

_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")  # the rails FeatureName pattern
_DTYPES: Final[Mapping[str, Dtype]] = MappingProxyType({
    "count": "int", "amount_sum": "int", "amount_max": "int", "distinct": "int",
    "time_since_prev": "float", "amount_to_mean": "float", "amount_zscore": "float",
})


@dataclass(frozen=True, slots=True)
class FeatureDef:
    """One windowed aggregate over one entity kind's events (family ``ofp_core``)."""

    name: str
    entity_kind: EntityKind
    window: str
    aggregate: Aggregate
    dtype: Dtype
    description: str
    of: EntityKind | None = None
    """``distinct`` only: the kind whose ids are counted."""
    sources: tuple[str, ...] = (DEFAULT_SOURCE,)
    """Event types whose events count (sorted, unique)."""

    @property
    def family(self) -> str:
        return OFP_FAMILY

    @property
    def window_us(self) -> int:
        return window_us(self.window)

    def canonical(self) -> dict[str, Any]:
        """The definition as JSON: what the digests cover (the window by its length too)."""
        return {"name": self.name, "family": OFP_FAMILY, "entity_kind": self.entity_kind,
                "window": self.window, "window_us": window_us(self.window),
                "aggregate": self.aggregate, "of": self.of, "sources": list(self.sources),
                "dtype": self.dtype, "description": self.description}


@dataclass(frozen=True, slots=True)
class FeatureDecl:
    """A feature computed elsewhere (``txn.*`` from the trigger, ``graph.*`` from the graph)."""

    name: str
    family: Family
    dtype: Dtype
    description: str

    def canonical(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "dtype": self.dtype,
                "description": self.description}


def windowed(kind: EntityKind, aggregate: Aggregate, window: str, *, of: EntityKind | None = None,
             sources: tuple[str, ...] = (DEFAULT_SOURCE,), description: str | None = None,
             ) -> FeatureDef:
    """A :class:`FeatureDef` named by the convention ``<kind>.<stem>_<window>``.

    The stem is the aggregate (``distinct_<of>s`` for distinct counts); ``time_since_prev`` is
    ``<kind>.time_since_prev_s`` (its window bounds how far back "previous" looks). Sources
    other than the default prefix the stem (``card.refund_count_24h``).
    """
    if aggregate == "distinct":
        if of is None:
            raise ContractError(f"{kind} distinct_{window}: say which kind it counts (of=)")
        stem = f"distinct_{of}s"
    else:
        stem = aggregate
    prefix = "" if sources == (DEFAULT_SOURCE,) else "_".join(sources) + "_"
    name = f"{kind}.{prefix}time_since_prev_s" if aggregate == "time_since_prev" else \
        f"{kind}.{prefix}{stem}_{window}"
    feeds = " or ".join(sources)
    text = description or _describe(kind, aggregate, window, of, feeds)
    return FeatureDef(name=name, entity_kind=kind, window=window, aggregate=aggregate,
                      dtype=_DTYPES[aggregate], description=text, of=of, sources=sources)


def _describe(kind: str, aggregate: str, window: str, of: str | None, feeds: str) -> str:
    events = f"the {kind}'s {feeds} events in the {window} before the trigger"
    return {
        "count": f"Number of {events}.",
        "amount_sum": f"Sum of the amounts (minor units) of {events}.",
        "amount_max": f"Largest amount (minor units) of {events}; 0 if none.",
        "distinct": f"Number of distinct {of}s named by {events}.",
        "time_since_prev": f"Seconds since the latest of {events}; None if none.",
        "amount_to_mean": f"The trigger's amount over the mean amount of {events}.",
        "amount_zscore": f"Population z-score of the trigger's amount against {events}.",
    }[aggregate]


class FeatureRegistry:
    """An immutable, validated set of feature definitions and its digests.

    Raises (on construction):
        ContractError: a repeated or malformed name, an unknown window, source or kind, or a
            distinct count without (or of its own) kind.
    """

    __slots__ = ("decls", "defs", "digest", "family_digests", "names", "retention_us")

    def __init__(self, defs: Iterable[FeatureDef], decls: Iterable[FeatureDecl] = ()) -> None:
        self.defs: tuple[FeatureDef, ...] = tuple(sorted(defs, key=lambda d: d.name))
        self.decls: tuple[FeatureDecl, ...] = tuple(sorted(decls, key=lambda d: d.name))
        names = [d.name for d in self.defs] + [d.name for d in self.decls]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ContractError(f"feature names must be unique; repeated: {dupes}")
        for d in self.defs:
            self._check_def(d)
        for decl in self.decls:
            if not _NAME.match(decl.name) or decl.family == OFP_FAMILY:
                raise ContractError(f"feature {decl.name!r}: bad name or family {decl.family!r}")
        self.names: frozenset[str] = frozenset(names)
        self.retention_us: int = max((d.window_us for d in self.defs), default=0)
        """The longest window: how far back the fold must keep events."""
        canon = [d.canonical() for d in self.defs] + [d.canonical() for d in self.decls]
        canon.sort(key=lambda c: c["name"])
        families = sorted({c["family"] for c in canon})
        self.family_digests: Mapping[str, str] = MappingProxyType({
            fam: make_id("feature_set", fam, [c for c in canon if c["family"] == fam])
            for fam in families
        })
        self.digest: str = make_id("feature_registry", canon)

    def __reduce__(self) -> tuple[type[FeatureRegistry], tuple[tuple[FeatureDef, ...],
                                                                 tuple[FeatureDecl, ...]]]:
        """Pickled as its definitions (a state snapshot holds the registry its fold used)."""
        return (FeatureRegistry, (self.defs, self.decls))

    @staticmethod
    def _check_def(d: FeatureDef) -> None:
        problems = []
        if not _NAME.match(d.name):
            problems.append("name does not match <family>.<name> in lowercase snake_case")
        if d.entity_kind not in ENTITY_KINDS:
            problems.append(f"unknown entity kind {d.entity_kind!r}")
        try:
            window_us(d.window)
        except ValueError as exc:
            problems.append(str(exc))
        if d.aggregate not in AGGREGATES:
            problems.append(f"unknown aggregate {d.aggregate!r}")
        if (d.aggregate == "distinct") != (d.of is not None) or d.of == d.entity_kind or (
                d.of is not None and d.of not in ENTITY_KINDS):
            problems.append("'of' names another entity kind exactly for distinct counts")
        if not d.sources or list(d.sources) != sorted(set(d.sources)):
            problems.append("sources must be a non-empty, sorted list without repeats")
        unknown = sorted(set(d.sources) - FEEDABLE_EVENT_TYPES)
        if unknown:
            problems.append(f"sources {unknown} carry no entity ids and amount")
        if d.aggregate in _DTYPES and d.dtype != _DTYPES[d.aggregate]:
            problems.append(f"dtype of {d.aggregate} is {_DTYPES[d.aggregate]}")
        if not d.name.startswith(f"{d.entity_kind}."):
            problems.append("the name starts with its entity kind")
        if problems:
            raise ContractError(f"feature {d.name!r}: {'; '.join(problems)}")

    def family_names(self, family: str) -> tuple[str, ...]:
        """The sorted names of one family's features."""
        if family == OFP_FAMILY:
            return tuple(d.name for d in self.defs)
        return tuple(d.name for d in self.decls if d.family == family)

    def feature_set(self, family: str) -> FeatureSetRef:
        """The provenance ref of one family: its name and the digest of its definitions."""
        return FeatureSetRef(name=family, digest=self.family_digests[family])

    def extended(self, defs: Iterable[FeatureDef] = (), decls: Iterable[FeatureDecl] = ()
                 ) -> FeatureRegistry:
        """A new registry with these definitions added (tests, and the way features grow)."""
        return FeatureRegistry((*self.defs, *defs), (*self.decls, *decls))

    def without(self, *names: str) -> FeatureRegistry:
        """A new registry with these features removed."""
        gone = set(names)
        return FeatureRegistry([d for d in self.defs if d.name not in gone],
                               [d for d in self.decls if d.name not in gone])


# -- the platform's features -------------------------------------------------------------------

_DISTINCT: Final[Mapping[EntityKind, tuple[EntityKind, ...]]] = MappingProxyType({
    "card": ("merchant", "device"),
    "account": ("card", "merchant", "device"),
    "customer": ("card", "merchant", "device"),
    "device": ("card", "merchant"),
    "ip": ("card", "merchant"),
    "merchant": ("card",),
})
"""Per kind, the other kinds whose distinct ids each window counts."""


def _ofp_defs() -> list[FeatureDef]:
    out: list[FeatureDef] = []
    for kind in ENTITY_KINDS:
        for window in WINDOWS:
            out.extend(windowed(kind, agg, window) for agg in ("count", "amount_sum", "amount_max"))
            out.extend(windowed(kind, "distinct", window, of=of) for of in _DISTINCT[kind])
        out.append(windowed(kind, "time_since_prev", "7d"))
    out.append(windowed("card", "amount_to_mean", "7d"))
    out.append(windowed("card", "amount_zscore", "7d"))
    return out


def _decl(family: Family, dtype: Dtype, name: str, description: str) -> FeatureDecl:
    return FeatureDecl(name=name, family=family, dtype=dtype, description=description)


_TXN_DECLS: Final = (
    _decl("txn", "int", "txn.amount_minor", "The trigger's amount in minor units."),
    _decl("txn", "bool", "txn.is_round_amount",
          "Amount >= 100.00 and a multiple of 50.00 (minor units 10000, 5000)."),
    _decl("txn", "bool", "txn.is_tiny_amount", "Amount <= 3.00 (a card-testing probe size)."),
    _decl("txn", "bool", "txn.card_present", "The payment's channel is card_present."),
    _decl("txn", "bool", "txn.entry_keyed", "The card number was keyed in."),
    _decl("txn", "bool", "txn.entry_magstripe", "The card was swiped (magnetic stripe)."),
    _decl("txn", "int", "txn.mcc", "The merchant category code as an integer."),
    _decl("txn", "int", "txn.hour_utc", "Hour of the trigger's ts_utc (0-23, UTC)."),
    _decl("txn", "bool", "txn.is_night_utc", "The trigger's UTC hour is before 06:00."),
)
_G: Final[Family] = "ieg_links"
_RET = "within the graph's retention"
_GRAPH_DECLS: Final = (
    _decl(_G, "bool", "graph.device_new_for_account",
          f"The account has no earlier occurrence with this device {_RET}."),
    _decl(_G, "bool", "graph.ip_new_for_account",
          f"The account has no earlier occurrence with this IP {_RET}."),
    _decl(_G, "bool", "graph.device_new_for_card",
          f"The card has no earlier occurrence with this device {_RET}."),
    _decl(_G, "bool", "graph.ip_new_for_card",
          f"The card has no earlier occurrence with this IP {_RET}."),
    _decl(_G, "int", "graph.device_distinct_cards_24h",
          "Cards linked to the device by an occurrence in the 24h before the trigger (any "
          "traffic event type)."),
    _decl(_G, "int", "graph.device_distinct_cards_total", f"Cards linked to the device {_RET}."),
    _decl(_G, "int", "graph.device_distinct_customers_total",
          f"Customers linked to the device {_RET}."),
    _decl(_G, "int", "graph.ip_distinct_cards_1h",
          "Cards linked to the IP by an occurrence in the hour before the trigger."),
    _decl(_G, "int", "graph.ip_distinct_cards_24h",
          "Cards linked to the IP by an occurrence in the 24h before the trigger."),
    _decl(_G, "int", "graph.ip_distinct_customers_total", f"Customers linked to the IP {_RET}."),
    _decl(_G, "int", "graph.card_distinct_devices_total", f"Devices linked to the card {_RET}."),
    _decl(_G, "int", "graph.account_distinct_devices_total",
          f"Devices linked to the account {_RET}."),
    _decl(_G, "bool", "graph.merchant_card_first_seen",
          f"The card has no earlier occurrence at this merchant {_RET}."),
)

REGISTRY: Final = FeatureRegistry(_ofp_defs(), (*_TXN_DECLS, *_GRAPH_DECLS))
"""Every feature the platform's snapshots can carry."""

"""The ``graph.*`` link features OFP puts in a decision's feature snapshot.

One function computes them for online serving and for offline rebuilds alike (parity comes from
one library). They are declared (name, type, description) in the feature registry
(``app.ofp.registry``, family ``ieg_links``), which is also their identity: there is no version
to bump here. The key set is fixed (:data:`LINK_FEATURE_NAMES`) and never depends on the data; a
feature whose entity is absent from the event is ``None``, never a guessed 0 or False. Only
occurrences strictly before ``as_of_us`` count, and "total" / "new" look back over the graph's
retention, so eviction never changes them. No feature scans a merchant's neighbours: the
merchant feature is one lookup from the card's side.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from app.ieg.edge import Edge
from app.ieg.queries import count_seen
from app.ofp.registry import GRAPH_FAMILY, REGISTRY

if TYPE_CHECKING:
    from app.ieg.graph import EntityGraph

__all__ = ["LINK_FEATURE_NAMES", "link_features"]

_HOUR_US: Final[int] = 3600 * 1_000_000
_DAY_US: Final[int] = 24 * _HOUR_US

DEVICE_NEW_FOR_ACCOUNT = "graph.device_new_for_account"
IP_NEW_FOR_ACCOUNT = "graph.ip_new_for_account"
DEVICE_NEW_FOR_CARD = "graph.device_new_for_card"
IP_NEW_FOR_CARD = "graph.ip_new_for_card"
DEVICE_DISTINCT_CARDS_24H = "graph.device_distinct_cards_24h"
DEVICE_DISTINCT_CARDS_TOTAL = "graph.device_distinct_cards_total"
DEVICE_DISTINCT_CUSTOMERS_TOTAL = "graph.device_distinct_customers_total"
IP_DISTINCT_CARDS_1H = "graph.ip_distinct_cards_1h"
IP_DISTINCT_CARDS_24H = "graph.ip_distinct_cards_24h"
IP_DISTINCT_CUSTOMERS_TOTAL = "graph.ip_distinct_customers_total"
CARD_DISTINCT_DEVICES_TOTAL = "graph.card_distinct_devices_total"
ACCOUNT_DISTINCT_DEVICES_TOTAL = "graph.account_distinct_devices_total"
MERCHANT_CARD_FIRST_SEEN = "graph.merchant_card_first_seen"

LINK_FEATURE_NAMES: Final[tuple[str, ...]] = REGISTRY.family_names(GRAPH_FAMILY)
"""Every feature name, sorted; the exact key set of :func:`link_features`."""


def link_features(
    graph: EntityGraph, entities: Mapping[str, str | None], as_of_us: int
) -> dict[str, int | bool | None]:
    """Compute every ``graph.*`` feature for the entities of one event, as of its ``ts_utc``.

    Args:
        graph: the projection; it may already hold the event itself (strict as-of hides it).
        entities: kind -> id of the event's entities; missing, None or "" mean absent.
        as_of_us: the event's domain time in microseconds; only earlier occurrences count.

    Returns:
        ``{name: value}`` with exactly :data:`LINK_FEATURE_NAMES` as keys.
    """
    card = entities.get("card") or None
    account = entities.get("account") or None
    device = entities.get("device") or None
    ip = entities.get("ip") or None
    merchant = entities.get("merchant") or None
    since = as_of_us - graph.retention_us
    out: dict[str, int | bool | None] = dict.fromkeys(LINK_FEATURE_NAMES)
    node = graph.node

    if account is not None:
        rows = node("account", account)
        devices = rows.get("device", _EMPTY)
        if device is not None:
            out[DEVICE_NEW_FOR_ACCOUNT] = not _seen(devices.get(device), as_of_us, since)
        if ip is not None:
            edge = rows.get("ip", _EMPTY).get(ip)
            out[IP_NEW_FOR_ACCOUNT] = not _seen(edge, as_of_us, since)
        out[ACCOUNT_DISTINCT_DEVICES_TOTAL] = count_seen(devices, as_of_us, since)
    if card is not None:
        rows = node("card", card)
        devices = rows.get("device", _EMPTY)
        if device is not None:
            out[DEVICE_NEW_FOR_CARD] = not _seen(devices.get(device), as_of_us, since)
        if ip is not None:
            edge = rows.get("ip", _EMPTY).get(ip)
            out[IP_NEW_FOR_CARD] = not _seen(edge, as_of_us, since)
        if merchant is not None:
            edge = rows.get("merchant", _EMPTY).get(merchant)
            out[MERCHANT_CARD_FIRST_SEEN] = not _seen(edge, as_of_us, since)
        out[CARD_DISTINCT_DEVICES_TOTAL] = count_seen(devices, as_of_us, since)
    if device is not None:
        rows = node("device", device)
        # No 1h count: device.distinct_cards_1h (the windows) is that feature.
        _, day, total = _count_windows(
            rows.get("card", _EMPTY), as_of_us, as_of_us - _HOUR_US, as_of_us - _DAY_US, since
        )
        out[DEVICE_DISTINCT_CARDS_24H] = day
        out[DEVICE_DISTINCT_CARDS_TOTAL] = total
        customers = rows.get("customer", _EMPTY)
        out[DEVICE_DISTINCT_CUSTOMERS_TOTAL] = count_seen(customers, as_of_us, since)
    if ip is not None:
        rows = node("ip", ip)
        hour, day, _ = _count_windows(
            rows.get("card", _EMPTY), as_of_us, as_of_us - _HOUR_US, as_of_us - _DAY_US, since
        )
        out[IP_DISTINCT_CARDS_1H] = hour
        out[IP_DISTINCT_CARDS_24H] = day
        customers = rows.get("customer", _EMPTY)
        out[IP_DISTINCT_CUSTOMERS_TOTAL] = count_seen(customers, as_of_us, since)
    return out


_EMPTY: Mapping[str, Edge] = MappingProxyType({})


def _seen(edge: Edge | None, as_of_us: int, since_us: int) -> bool:
    """Whether ``edge`` has an occurrence in ``[since_us, as_of_us)``."""
    if edge is None:
        return False
    seen = edge.latest_before(as_of_us)
    return seen is not None and seen >= since_us


def _count_windows(
    row: Mapping[str, Edge], as_of_us: int, hour_us: int, day_us: int, since_us: int
) -> tuple[int, int, int]:
    """Edges of ``row`` occurring in ``[low, as_of_us)`` for three lower bounds: one scan."""
    hour = day = total = 0
    for e in row.values():
        seen = e.latest_before(as_of_us)
        if seen is None:
            continue
        # Independent tests: a retention shorter than a day must still bound the total.
        if seen >= hour_us:
            hour += 1
        if seen >= day_us:
            day += 1
        if seen >= since_us:
            total += 1
    return hour, day, total

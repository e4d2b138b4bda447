"""One shard of OFP state: applies admitted txns and answers as-of feature queries.

The platform keeps one ``FeatureState`` per Kafka partition. Everything is a function of the txns
applied (event time only, no clock, no I/O), so replaying the same input rebuilds the same state
and the offline rebuild can drive the very same code.

Retention: the watermark is the max ``ts_us`` applied. A trigger at ``T`` needs events back to
``T - 7d``; triggers up to ``allowed_lateness_us`` behind the watermark are served exactly, so state
older than ``watermark - 7d - allowed_lateness`` is evicted (by ``apply`` as the watermark moves,
which keeps the retained set a function of the data alone). A trigger further behind is answered
best effort and flagged ``complete=False``.

With ``external_clock=True`` the owner drives the watermark instead (``advance_to``), e.g. the
hot path's shard clock, which no single implausible event can move far (issue #11 item 1);
eviction and the ``complete`` judgement then read that clock, so values stay exact all the same.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any, Final

from app.ofp.entity_windows import SCAN_MAX_EVENTS, EntityWindows
from app.ofp.feature_set import DISTINCT_FIELDS, FeatureValue, kind_feature_names
from app.ofp.running_window import DistinctKeys
from app.ofp.txn import ENTITY_ID_FIELDS, ENTITY_KINDS, EntityKind, Txn
from app.ofp.windows import RETENTION_US
from app.rails.errors import ContractError

__all__ = ["DEFAULT_ALLOWED_LATENESS_US", "STATE_FORMAT", "FeatureState"]

DEFAULT_ALLOWED_LATENESS_US: Final = 3_600_000_000
STATE_FORMAT: Final = "ofp.feature_state.v1"
# Compact an entity's log once this many leading entries are dead and they are half of it:
# amortised O(1) per eviction, and small logs never pay for compaction.
_COMPACT_MIN_DEAD: Final = 64


def _keys_getter(fields: tuple[str, ...]) -> Callable[[Txn], DistinctKeys]:
    """A C-level getter of ``fields`` from a txn, always returning a tuple."""
    if len(fields) > 1:
        getter: Callable[[Txn], DistinctKeys] = attrgetter(*fields)
        return getter
    single = attrgetter(fields[0])

    def one(txn: Txn) -> DistinctKeys:
        return (single(txn),)

    return one


class _Kind:
    """Per-kind constants plus that kind's entities, so the hot loops do no name lookups."""

    __slots__ = ("card_extras", "empty", "entities", "id_field", "keys", "n_dist", "nones")

    def __init__(self, kind: EntityKind, id_field: str) -> None:
        fields = tuple(field for field, _ in DISTINCT_FIELDS[kind])
        self.id_field = id_field
        self.n_dist = len(fields)
        self.keys = _keys_getter(fields)
        self.card_extras = kind == "card"
        self.entities: dict[str, EntityWindows] = {}
        n_values = len(kind_feature_names(kind))
        self.nones: tuple[None, ...] = (None,) * n_values
        # Values of an entity with no history, produced by the same code path as any other.
        empty: list[FeatureValue] = []
        EntityWindows(self.n_dist, squares=self.card_extras).values_into(
            0, 0, self.card_extras, SCAN_MAX_EVENTS, empty
        )
        self.empty = tuple(empty)
        if len(self.empty) != n_values:
            raise ContractError(f"ofp layout for {kind!r} emits {len(empty)} != {n_values} values")


_LAYOUT: Final[tuple[str, ...]] = tuple(
    name for kind in ENTITY_KINDS for name in kind_feature_names(kind)
)
_TEMPLATE: Final[dict[str, FeatureValue]] = dict.fromkeys(_LAYOUT)


class FeatureState:
    """Windowed per-entity aggregates over applied txns, queried as of a trigger's event time."""

    __slots__ = ("_external", "_heap", "_kinds", "_lateness_us", "_scan_max", "_seq",
                 "_watermark_us")

    def __init__(
        self,
        *,
        allowed_lateness_us: int = DEFAULT_ALLOWED_LATENESS_US,
        scan_max_events: int = SCAN_MAX_EVENTS,
        external_clock: bool = False,
    ) -> None:
        """Args:
        allowed_lateness_us: how far (event time) behind the watermark a trigger may be and
            still be served exactly; also how long evicted state is kept beyond 7d.
        scan_max_events: a speed knob only (window size above which running state is kept);
            values never depend on it, and tests set it low to exercise both paths.
        external_clock: the watermark moves only by :meth:`advance_to`, not by ``apply``.
        """
        if allowed_lateness_us < 0:
            raise ContractError(f"allowed_lateness_us must be >= 0, got {allowed_lateness_us}")
        if scan_max_events < 0:
            raise ContractError(f"scan_max_events must be >= 0, got {scan_max_events}")
        self._lateness_us = allowed_lateness_us
        self._scan_max = scan_max_events
        self._kinds = tuple(
            _Kind(kind, field) for kind, field in zip(ENTITY_KINDS, ENTITY_ID_FIELDS, strict=True)
        )
        # Retained txns as (ts_us, arrival seq, txn): pops in event-time order for eviction.
        self._heap: list[tuple[int, int, Txn]] = []
        self._seq = 0
        self._watermark_us: int | None = None
        self._external = external_clock

    @property
    def allowed_lateness_us(self) -> int:
        """How far behind the watermark a trigger is still served exactly (microseconds)."""
        return self._lateness_us

    @property
    def watermark_us(self) -> int | None:
        """Max ``ts_us`` applied so far (``None`` before the first), or the external clock's
        value; never decreases."""
        return self._watermark_us

    @property
    def horizon_us(self) -> int | None:
        """Events with ``ts_us`` below this are evicted: ``watermark - 7d - allowed_lateness``."""
        wm = self._watermark_us
        return None if wm is None else wm - RETENTION_US - self._lateness_us

    def features(self, trigger: Txn) -> tuple[dict[str, FeatureValue], bool]:
        """Values as of ``trigger.ts_us`` from every applied txn with ``ts < trigger.ts_us``.

        Returns:
            ``(values, complete)``: ``values`` has exactly ``FEATURE_NAMES`` as keys; ``complete``
            is False only when the trigger is more than ``allowed_lateness_us`` behind the
            watermark, where evicted events may be missing from its windows.
        """
        t_us = trigger.ts_us
        amount = trigger.amount_minor
        out: list[FeatureValue] = []
        scan_max = self._scan_max
        for kind in self._kinds:
            eid = getattr(trigger, kind.id_field)
            if eid is None:
                out.extend(kind.nones)
                continue
            entity = kind.entities.get(eid)
            if entity is None:
                out.extend(kind.empty)
            else:
                entity.values_into(t_us, amount, kind.card_extras, scan_max, out)
        wm = self._watermark_us
        complete = wm is None or t_us >= wm - self._lateness_us
        # Copying a template and overwriting is cheaper than growing a fresh 180-key dict; the
        # layout length was checked per kind in ``_Kind``.
        values = _TEMPLATE.copy()
        values.update(zip(_LAYOUT, out, strict=False))
        return values, complete

    def apply(self, txn: Txn) -> bool:
        """Add ``txn`` (any order). One older than the eviction horizon is not retained (returns
        False, for the caller to count): it could only reach triggers that are already
        incomplete."""
        ts = txn.ts_us
        wm = self._watermark_us
        if wm is not None and ts < wm - RETENTION_US - self._lateness_us:
            return False
        self._seq += 1
        heapq.heappush(self._heap, (ts, self._seq, txn))
        amount, declined, stepped_up = txn.amount_minor, txn.declined, txn.stepped_up
        for kind in self._kinds:
            eid = getattr(txn, kind.id_field)
            if eid is None:
                continue
            entity = kind.entities.get(eid)
            if entity is None:
                entity = kind.entities[eid] = EntityWindows(kind.n_dist, squares=kind.card_extras)
            entity.insert(ts, amount, declined, stepped_up, kind.keys(txn))
        if not self._external and (wm is None or ts > wm):
            self._watermark_us = ts
            if self._heap[0][0] < ts - RETENTION_US - self._lateness_us:
                self.evict()
        return True

    def advance_to(self, watermark_us: int) -> None:
        """Move the watermark to ``watermark_us`` if that is later (the external clock's value),
        evicting what falls behind the new horizon."""
        wm = self._watermark_us
        if wm is not None and watermark_us <= wm:
            return
        self._watermark_us = watermark_us
        if self._heap and self._heap[0][0] < watermark_us - RETENTION_US - self._lateness_us:
            self.evict()

    def evict(self) -> int:
        """Drop every txn older than ``horizon_us``; returns how many were dropped.

        ``apply`` already calls this whenever the watermark moves, so it is idempotent and usually
        returns 0; eviction never changes a value of a trigger within the allowed lateness.
        """
        horizon = self.horizon_us
        heap = self._heap
        dropped = 0
        while heap and horizon is not None and heap[0][0] < horizon:
            txn = heapq.heappop(heap)[2]
            dropped += 1
            for kind in self._kinds:
                eid = getattr(txn, kind.id_field)
                if eid is None:
                    continue
                entity = kind.entities[eid]
                # Eviction is by event time, so an entity's evicted entries are a prefix of its log.
                entity.dead += 1
                n = len(entity)
                if entity.dead == n:
                    del kind.entities[eid]
                elif entity.dead >= _COMPACT_MIN_DEAD and 2 * entity.dead >= n:
                    entity.compact()
        return dropped

    def retained_txns(self) -> int:
        """How many txns the state holds (each counted once, however many entities it touches)."""
        return len(self._heap)

    def entity_count(self) -> int:
        """How many entities (of all kinds) have retained events."""
        return sum(len(kind.entities) for kind in self._kinds)

    def to_state(self) -> dict[str, Any]:
        """A JSON-able dump: settings, watermark and the retained txns in (ts, arrival) order.

        Running aggregates are caches and are not dumped; ``from_state`` rebuilds the same values.
        """
        txns = [
            [
                t.ts_us,
                t.amount_minor,
                t.card_id,
                t.account_id,
                t.customer_id,
                t.device_id,
                t.ip_id,
                t.merchant_id,
                t.declined,
                t.stepped_up,
            ]
            for _, _, t in sorted(self._heap)
        ]
        return {
            "format": STATE_FORMAT,
            "allowed_lateness_us": self._lateness_us,
            "watermark_us": self._watermark_us,
            "txns": txns,
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], *, scan_max_events: int = SCAN_MAX_EVENTS
    ) -> FeatureState:
        """Load a ``to_state`` dump (``scan_max_events`` is not part of it: a speed knob).

        Raises:
            ContractError: the dump has another format or is malformed.
        """
        if state.get("format") != STATE_FORMAT:
            raise ContractError(
                f"ofp state format {state.get('format')!r} is not {STATE_FORMAT!r}; "
                "rebuild the state by replaying the input instead"
            )
        try:
            lateness = int(state["allowed_lateness_us"])
            fs = cls(allowed_lateness_us=lateness, scan_max_events=scan_max_events)
            for row in state["txns"]:
                ts, amount, card, account, customer, device, ip, merchant, dec, step = row
                fs.apply(Txn(ts, amount, card, account, customer, device, ip, merchant, dec, step))
            watermark = state["watermark_us"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractError(f"ofp state dump is malformed: {exc!r}") from exc
        if watermark is not None and (fs._watermark_us is None or watermark > fs._watermark_us):
            fs._watermark_us = int(watermark)
            fs.evict()
        return fs

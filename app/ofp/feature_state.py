"""One shard of OFP state: applies admitted txns and answers as-of feature queries.

What it computes is the feature registry's windowed definitions (``app.ofp.registry``; the value
layout is derived in ``app.ofp.layout``). Everything is a function of the txns applied (event
time only, no clock, no I/O), so replaying the same input rebuilds the same state and the
offline rebuild can drive the very same code.

Retention: the watermark is the max ``ts_us`` applied. A trigger at ``T`` needs events back to
``T - longest window`` (7d); triggers up to ``allowed_lateness_us`` behind the watermark are
served exactly, so state older than ``watermark - 7d - allowed_lateness`` is evicted (by
``apply`` as the watermark moves, which keeps the retained set a function of the data alone). A
trigger further behind is answered best effort and flagged ``complete=False``.

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
from app.ofp.layout import StreamSpec, layout_of
from app.ofp.registry import REGISTRY, FeatureRegistry
from app.ofp.running_window import DistinctKeys
from app.ofp.txn import Txn
from app.rails.decision import FeatureValue
from app.rails.errors import ContractError

__all__ = ["DEFAULT_ALLOWED_LATENESS_US", "STATE_FORMAT", "FeatureState"]

DEFAULT_ALLOWED_LATENESS_US: Final = 3_600_000_000
STATE_FORMAT: Final = "ofp.feature_state.v2"
# Compact an entity's log once this many leading entries are dead and they are half of it:
# amortised O(1) per eviction, and small logs never pay for compaction.
_COMPACT_MIN_DEAD: Final = 64


def _keys_getter(fields: tuple[str, ...]) -> Callable[[Txn], DistinctKeys]:
    """A C-level getter of ``fields`` from a txn, always returning a tuple."""
    if len(fields) > 1:
        getter: Callable[[Txn], DistinctKeys] = attrgetter(*fields)
        return getter
    if not fields:
        return lambda _txn: ()
    single = attrgetter(fields[0])

    def one(txn: Txn) -> DistinctKeys:
        return (single(txn),)

    return one


class _Stream:
    """One stream's spec plus its entities, so the hot loops do no name lookups."""

    __slots__ = ("empty", "entities", "id_field", "keys", "n_dist", "nones", "spec", "squares")

    def __init__(self, spec: StreamSpec) -> None:
        self.spec = spec
        self.id_field = spec.id_field
        self.n_dist = len(spec.of_fields)
        self.keys = _keys_getter(spec.of_fields)
        self.squares = spec.zscore
        self.entities: dict[str, EntityWindows] = {}
        n_values = len(spec.names)
        self.nones: tuple[None, ...] = (None,) * n_values
        # Values of an entity with no history, produced by the same code path as any other.
        empty: list[FeatureValue] = []
        EntityWindows(self.n_dist, squares=self.squares).values_into(
            0, 0, spec, SCAN_MAX_EVENTS, empty
        )
        self.empty = tuple(empty)
        if len(self.empty) != n_values:
            raise ContractError(
                f"ofp layout for {spec.kind!r} emits {len(empty)} != {n_values} values")

    def __getstate__(self) -> tuple[StreamSpec, dict[str, EntityWindows]]:
        """Pickled as its spec and entities (the key getter is a closure, rebuilt on load):
        the hot path's state snapshots (``app.hotpath.fold_snapshot``)."""
        return self.spec, self.entities

    def __setstate__(self, state: tuple[StreamSpec, dict[str, EntityWindows]]) -> None:
        spec, entities = state
        self.__init__(spec)  # type: ignore[misc]  # rebuild the derived fields, then the data
        self.entities = entities


class _Compiled:
    """Per-registry constants: the layout keyed by name (undeclared slots get junk keys that
    are deleted again) and the template every answer is copied from."""

    __slots__ = ("junk", "names", "template")

    def __init__(self, registry: FeatureRegistry) -> None:
        raw = layout_of(registry).names
        self.names: tuple[str, ...] = tuple(
            f"~{i}" if name is None else name for i, name in enumerate(raw))
        self.junk: tuple[str, ...] = tuple(n for n in self.names if n.startswith("~"))
        self.template: dict[str, FeatureValue] = dict.fromkeys(self.names)


_COMPILED: dict[int, tuple[FeatureRegistry, _Compiled]] = {}


def _compiled(registry: FeatureRegistry) -> _Compiled:
    hit = _COMPILED.get(id(registry))
    if hit is None or hit[0] is not registry:
        hit = _COMPILED[id(registry)] = (registry, _Compiled(registry))
    return hit[1]


class FeatureState:
    """Windowed per-entity aggregates over applied txns, queried as of a trigger's event time."""

    __slots__ = ("_by_type", "_compiled", "_external", "_heap", "_lateness_us", "_registry",
                 "_retention_us", "_scan_max", "_seq", "_streams", "_watermark_us")

    def __init__(
        self,
        *,
        allowed_lateness_us: int = DEFAULT_ALLOWED_LATENESS_US,
        scan_max_events: int = SCAN_MAX_EVENTS,
        external_clock: bool = False,
        registry: FeatureRegistry = REGISTRY,
    ) -> None:
        """Args:
        allowed_lateness_us: how far (event time) behind the watermark a trigger may be and
            still be served exactly; also how long evicted state is kept beyond the longest
            window.
        scan_max_events: a speed knob only (window size above which running state is kept);
            values never depend on it, and tests set it low to exercise both paths.
        external_clock: the watermark moves only by :meth:`advance_to`, not by ``apply``.
        registry: the features to compute (the platform's by default).
        """
        if allowed_lateness_us < 0:
            raise ContractError(f"allowed_lateness_us must be >= 0, got {allowed_lateness_us}")
        if scan_max_events < 0:
            raise ContractError(f"scan_max_events must be >= 0, got {scan_max_events}")
        self._lateness_us = allowed_lateness_us
        self._scan_max = scan_max_events
        self._registry = registry
        self._retention_us = registry.retention_us
        self._compiled = _compiled(registry)
        self._streams = tuple(_Stream(spec) for spec in layout_of(registry).streams)
        by_type: dict[str, list[_Stream]] = {}
        for stream in self._streams:
            for source in stream.spec.sources:
                by_type.setdefault(source, []).append(stream)
        self._by_type: dict[str, tuple[_Stream, ...]] = {
            t: tuple(streams) for t, streams in by_type.items()}
        # Retained txns as (ts_us, arrival seq, txn): pops in event-time order for eviction.
        self._heap: list[tuple[int, int, Txn]] = []
        self._seq = 0
        self._watermark_us: int | None = None
        self._external = external_clock

    @property
    def registry(self) -> FeatureRegistry:
        """The feature definitions this state computes."""
        return self._registry

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
        """Events with ``ts_us`` below this are evicted: ``watermark - longest window -
        allowed_lateness``."""
        wm = self._watermark_us
        return None if wm is None else wm - self._retention_us - self._lateness_us

    def fed_by(self, event_type: str) -> bool:
        """Whether events of ``event_type`` feed any feature (others need not be applied)."""
        return event_type in self._by_type

    def features(self, trigger: Txn) -> tuple[dict[str, FeatureValue], bool]:
        """Values as of ``trigger.ts_us`` from every applied txn with ``ts < trigger.ts_us``.

        Returns:
            ``(values, complete)``: ``values`` has exactly the registry's windowed feature
            names as keys; ``complete`` is False only when the trigger is more than
            ``allowed_lateness_us`` behind the watermark, where evicted events may be missing
            from its windows.
        """
        t_us = trigger.ts_us
        amount = trigger.amount_minor
        out: list[FeatureValue] = []
        scan_max = self._scan_max
        for stream in self._streams:
            eid = getattr(trigger, stream.id_field)
            if eid is None:
                out.extend(stream.nones)
                continue
            entity = stream.entities.get(eid)
            if entity is None:
                out.extend(stream.empty)
            else:
                entity.values_into(t_us, amount, stream.spec, scan_max, out)
        wm = self._watermark_us
        complete = wm is None or t_us >= wm - self._lateness_us
        # Copying a template and overwriting is cheaper than growing a fresh 150-key dict; the
        # layout length was checked per stream in ``_Stream``.
        compiled = self._compiled
        values = compiled.template.copy()
        values.update(zip(compiled.names, out, strict=False))
        for junk in compiled.junk:
            del values[junk]
        return values, complete

    def apply(self, txn: Txn) -> bool:
        """Add ``txn`` (any order). One older than the eviction horizon is not retained (returns
        False, for the caller to count): it could only reach triggers that are already
        incomplete. A txn whose event type feeds no feature is ignored (returns True)."""
        streams = self._by_type.get(txn.event_type)
        if streams is None:
            return True
        ts = txn.ts_us
        wm = self._watermark_us
        keep_us = self._retention_us + self._lateness_us
        if wm is not None and ts < wm - keep_us:
            return False
        self._seq += 1
        heapq.heappush(self._heap, (ts, self._seq, txn))
        amount = txn.amount_minor
        for stream in streams:
            eid = getattr(txn, stream.id_field)
            if eid is None:
                continue
            entity = stream.entities.get(eid)
            if entity is None:
                entity = stream.entities[eid] = EntityWindows(
                    stream.n_dist, squares=stream.squares)
            entity.insert(ts, amount, stream.keys(txn), stream.spec)
        if not self._external and (wm is None or ts > wm):
            self._watermark_us = ts
            if self._heap[0][0] < ts - keep_us:
                self.evict()
        return True

    def advance_to(self, watermark_us: int) -> None:
        """Move the watermark to ``watermark_us`` if that is later (the external clock's value),
        evicting what falls behind the new horizon."""
        wm = self._watermark_us
        if wm is not None and watermark_us <= wm:
            return
        self._watermark_us = watermark_us
        if self._heap and self._heap[0][0] < (
                watermark_us - self._retention_us - self._lateness_us):
            self.evict()

    def evict(self) -> int:
        """Drop every txn older than ``horizon_us``; returns how many were dropped.

        ``apply`` already calls this whenever the watermark moves, so it is idempotent and usually
        returns 0; eviction never changes a value of a trigger within the allowed lateness.
        """
        horizon = self.horizon_us
        heap = self._heap
        by_type = self._by_type
        dropped = 0
        while heap and horizon is not None and heap[0][0] < horizon:
            txn = heapq.heappop(heap)[2]
            dropped += 1
            for stream in by_type[txn.event_type]:
                eid = getattr(txn, stream.id_field)
                if eid is None:
                    continue
                entity = stream.entities[eid]
                # Eviction is by event time, so an entity's evicted entries are a prefix of its log.
                entity.dead += 1
                n = len(entity)
                if entity.dead == n:
                    del stream.entities[eid]
                elif entity.dead >= _COMPACT_MIN_DEAD and 2 * entity.dead >= n:
                    entity.compact()
        return dropped

    def retained_txns(self) -> int:
        """How many txns the state holds (each counted once, however many entities it touches)."""
        return len(self._heap)

    def entity_count(self) -> int:
        """How many entities (of all streams) have retained events."""
        return sum(len(stream.entities) for stream in self._streams)

    def to_state(self) -> dict[str, Any]:
        """A JSON-able dump: settings, watermark and the retained txns in (ts, arrival) order.

        Running aggregates are caches and are not dumped; ``from_state`` rebuilds the same values
        for the same registry (named by its digest: txns of types that fed nothing were never
        kept, so a dump does not carry over to other definitions).
        """
        txns = [
            [t.ts_us, t.amount_minor, t.card_id, t.account_id, t.customer_id, t.device_id,
             t.ip_id, t.merchant_id, t.event_type]
            for _, _, t in sorted(self._heap)
        ]
        return {
            "format": STATE_FORMAT,
            "feature_registry": self._registry.digest,
            "allowed_lateness_us": self._lateness_us,
            "watermark_us": self._watermark_us,
            "txns": txns,
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], *, scan_max_events: int = SCAN_MAX_EVENTS,
        registry: FeatureRegistry = REGISTRY,
    ) -> FeatureState:
        """Load a ``to_state`` dump (``scan_max_events`` is not part of it: a speed knob).

        Raises:
            ContractError: the dump has another format, another registry, or is malformed.
        """
        if state.get("format") != STATE_FORMAT:
            raise ContractError(
                f"ofp state format {state.get('format')!r} is not {STATE_FORMAT!r}; "
                "rebuild the state by replaying the input instead"
            )
        if state.get("feature_registry") != registry.digest:
            raise ContractError(
                "ofp state was built for another feature registry; rebuild it by replaying")
        try:
            lateness = int(state["allowed_lateness_us"])
            fs = cls(allowed_lateness_us=lateness, scan_max_events=scan_max_events,
                     registry=registry)
            for row in state["txns"]:
                ts, amount, card, account, customer, device, ip, merchant, event_type = row
                fs.apply(Txn(ts, amount, card, account, customer, device, ip, merchant,
                             event_type))
            watermark = state["watermark_us"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractError(f"ofp state dump is malformed: {exc!r}") from exc
        if watermark is not None and (fs._watermark_us is None or watermark > fs._watermark_us):
            fs._watermark_us = int(watermark)
            fs.evict()
        return fs

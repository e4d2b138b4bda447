"""Label timelines: append-only per flow, with the two as-of reads the learning loop needs.

Pure and in memory (the durable log is ``app.labels.segments``; this is what a reader or the
Label Store stage builds from it). A subject is a flow of a run, ``(run_id, flow_id)``, findable
by card and account too. Semantics, which ``tests/unit/labels/test_timeline.py`` pins against a
brute force over the raw log:

- **Order.** A timeline is ordered by ``(observed time, label_id)``: when the platform learned
  each assertion, ties broken by id. Neither depends on arrival order, partition or worker, so
  every reader of the same assertions answers the same.
- **As known at T** (:meth:`LabelTimelines.timeline`): every assertion observed at or before T.
- **True at effective time E as known at T** (:meth:`LabelTimelines.active`): for each label
  type, among the assertions observed at or before T whose effective time is at or before E, the
  last in timeline order: a later assertion of a type supersedes the earlier one from its own
  observed time on, and an as-of read before it still sees the earlier one. :meth:`verdict` is
  the last of those over every type ("the latest word on the flow").
- **Identity.** ``(run_id, label_id)``. The same assertion again (same payload hash) is a
  duplicate and changes nothing; the same id with another payload hash is a collision, kept in
  :attr:`LabelTimelines.collisions` and never applied.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from app.rails.label import LabelAssertion, LabelType
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["Appended", "LabelTimelines", "Subject", "order_key"]

Subject = tuple[str, str]
"""``(run_id, flow_id)``."""
_Key = tuple[int, str]


def order_key(assertion: LabelAssertion) -> _Key:
    """Timeline order: observed time (epoch micros), then label id."""
    return ts_to_epoch_micros(assertion.observed_ts_utc), assertion.label_id


@dataclass(frozen=True)
class Appended:
    """What an append did: ``new`` (applied), ``duplicate`` (already held, same payload) or
    ``collision`` (the id is held with another payload: not applied; ``held`` is the kept one)."""

    status: Literal["new", "duplicate", "collision"]
    held: LabelAssertion | None = None


@dataclass
class _Timeline:
    keys: list[_Key] = field(default_factory=list)
    items: list[LabelAssertion] = field(default_factory=list)

    def insert(self, assertion: LabelAssertion) -> None:
        key = order_key(assertion)
        at = bisect.bisect_right(self.keys, key)
        self.keys.insert(at, key)
        self.items.insert(at, assertion)

    def upto(self, known_at_us: int | None) -> list[LabelAssertion]:
        if known_at_us is None:
            return list(self.items)
        # Every key with observed <= T sorts before (T + 1, "").
        return self.items[:bisect.bisect_left(self.keys, (known_at_us + 1, ""))]


class LabelTimelines:
    """Every flow's label timeline, indexed by flow, card and account (see the module doc)."""

    def __init__(self) -> None:
        self._by_id: dict[tuple[str, str], LabelAssertion] = {}
        self._timelines: dict[Subject, _Timeline] = {}
        self._by_card: dict[str, set[Subject]] = {}
        self._by_account: dict[str, set[Subject]] = {}
        self.collisions: list[tuple[LabelAssertion, LabelAssertion]] = []
        """(the assertion refused, the one held under its id), in the order they arrived."""

    def __len__(self) -> int:
        return len(self._by_id)

    def append(self, assertion: LabelAssertion) -> Appended:
        """Apply one assertion (idempotent by id; a colliding one is kept aside)."""
        identity = (assertion.run_id, assertion.label_id)
        held = self._by_id.get(identity)
        if held is not None:
            if held.payload_hash == assertion.payload_hash:
                return Appended("duplicate", held)
            self.collisions.append((assertion, held))
            return Appended("collision", held)
        self._by_id[identity] = assertion
        subject = (assertion.run_id, assertion.flow_id)
        self._timelines.setdefault(subject, _Timeline()).insert(assertion)
        if assertion.card_id is not None:  # an imported world may map no card or account
            self._by_card.setdefault(assertion.card_id, set()).add(subject)
        if assertion.account_id is not None:
            self._by_account.setdefault(assertion.account_id, set()).add(subject)
        return Appended("new")

    def extend(self, assertions: Iterable[LabelAssertion]) -> None:
        for assertion in assertions:
            self.append(assertion)

    def get(self, run_id: str, label_id: str) -> LabelAssertion | None:
        return self._by_id.get((run_id, label_id))

    def subjects(self) -> list[Subject]:
        return sorted(self._timelines)

    def subjects_of_card(self, card_id: str) -> list[Subject]:
        return sorted(self._by_card.get(card_id, ()))

    def subjects_of_account(self, account_id: str) -> list[Subject]:
        return sorted(self._by_account.get(account_id, ()))

    def timeline(self, subject: Subject, *, known_at_us: int | None = None
                 ) -> list[LabelAssertion]:
        """The flow's assertions observed at or before ``known_at_us`` (all: None), in order."""
        held = self._timelines.get(subject)
        return [] if held is None else held.upto(known_at_us)

    def active(self, subject: Subject, *, known_at_us: int | None = None,
               effective_at_us: int | None = None) -> dict[LabelType, LabelAssertion]:
        """Per label type, what was true at ``effective_at_us`` as known at ``known_at_us``
        (None: no bound)."""
        out: dict[LabelType, LabelAssertion] = {}
        for assertion in self.timeline(subject, known_at_us=known_at_us):
            if effective_at_us is None or \
                    ts_to_epoch_micros(assertion.effective_ts_utc) <= effective_at_us:
                out[assertion.label_type] = assertion  # later in timeline order supersedes
        return out

    def verdict(self, subject: Subject, *, known_at_us: int | None = None,
                effective_at_us: int | None = None) -> LabelAssertion | None:
        """The latest word on the flow over every type (None: nothing known then)."""
        active = self.active(subject, known_at_us=known_at_us, effective_at_us=effective_at_us)
        return max(active.values(), key=order_key, default=None)

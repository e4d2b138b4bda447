"""When has a run drained? Judged from the durable record only, never from worker counters.

A run is drained when IG has judged every planned row (ADMIT or QUARANTINE receipts), every
admitted trigger (an event type in ``policy.decision.triggers``: ``auth_request``, an imported
world's transaction) has a decision on ``fp.bus.rtdl.v1``, every intent of those decisions
has an ``action_outcome`` there, and every decision has an audit record. Steps whose component is
not part of the deployment are *not expected* and said so, never silently counted as done.
A stall (no progress for a while) ends the wait; :meth:`DrainProgress.missing` says what is left.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.rails.receipts import IngestionReceipt, ReceiptDecision
from app.reporting.records import BusRecord, run_of

__all__ = ["DrainProgress", "DrainTracker", "StallWatch", "run_failure"]


@dataclass(frozen=True, slots=True)
class DrainProgress:
    """How far a run got, step by step (counts of distinct ids)."""

    planned_rows: int
    rows_judged: int
    admitted_auths: int
    decided: int
    decisions: int
    intents: int
    outcomes: int
    audited: int
    outcomes_expected: bool
    audit_expected: bool
    admitted: int = 0
    """Rows IG admitted (ADMIT receipts)."""
    duplicates: int = 0
    """DUPLICATE receipts (re-sent rows: never a new row, never on the bus twice)."""
    quarantined: int = 0
    """Rows IG quarantined (QUARANTINE receipts)."""
    quarantine_reasons: tuple[tuple[str, int], ...] = ()
    """QUARANTINE receipts by their first reason code, most frequent first."""

    @property
    def streamed(self) -> bool:
        return self.rows_judged >= self.planned_rows

    @property
    def drained(self) -> bool:
        return (self.streamed and self.decided >= self.admitted_auths
                and (not self.outcomes_expected or self.outcomes >= self.intents)
                and (not self.audit_expected or self.audited >= self.decisions))

    @property
    def fraction(self) -> float:
        """Share of the expected work done, over every expected step (for a progress bar)."""
        steps = [(self.rows_judged, self.planned_rows), (self.decided, self.admitted_auths)]
        if self.outcomes_expected:
            steps.append((self.outcomes, self.intents))
        if self.audit_expected:
            steps.append((self.audited, self.decisions))
        total = sum(want for _, want in steps)
        return sum(min(done, want) for done, want in steps) / total if total else 1.0

    def key(self) -> Hashable:
        """Changes whenever anything progressed (stall detection)."""
        return (self.rows_judged, self.decided, self.decisions, self.outcomes, self.audited)

    def missing(self) -> list[str]:
        """What the run still lacks, one line per step (empty when drained)."""
        out: list[str] = []
        if not self.streamed:
            out.append(f"admission: {self.planned_rows - self.rows_judged:,} of "
                       f"{self.planned_rows:,} planned rows have no IG receipt")
        if self.decided < self.admitted_auths:
            out.append(f"decisions: {self.admitted_auths - self.decided:,} of "
                       f"{self.admitted_auths:,} admitted triggers have no decision")
        if self.outcomes_expected and self.outcomes < self.intents:
            out.append(f"actions: {self.intents - self.outcomes:,} of {self.intents:,} intents "
                       "have no action_outcome on rtdl (is AL running?)")
        if self.audit_expected and self.audited < self.decisions:
            out.append(f"audit: {self.decisions - self.audited:,} of {self.decisions:,} "
                       "decisions have no audit record (is DLA running?)")
        return out


class DrainTracker:
    """Folds receipts, rtdl records and audit records of one run into :class:`DrainProgress`.

    Every input is deduplicated on its id, so re-reading a record (at-least-once) changes nothing.
    Records of other runs are ignored: nothing crosses ``run_id``.
    """

    def __init__(self, run_id: str, planned_rows: int, *, outcomes_expected: bool,
                 audit_expected: bool,
                 triggers: Iterable[str] = ("auth_request",)) -> None:
        self.run_id = run_id
        self.triggers = frozenset(triggers)
        self.planned_rows = planned_rows
        self.outcomes_expected = outcomes_expected
        self.audit_expected = audit_expected
        self._judged: set[str] = set()       # receipt ids of ADMIT and QUARANTINE receipts
        self._auths: set[str] = set()        # admitted trigger event ids
        self._admitted: set[str] = set()     # receipt ids by decision
        self._duplicates: set[str] = set()
        self._quarantined: dict[str, str] = {}  # receipt id -> first reason code
        self._decided: set[str] = set()      # trigger event ids with a decision
        self._decisions: set[str] = set()
        self._intents: set[str] = set()      # action ids asked for
        self._outcomes: set[str] = set()     # action ids with an outcome
        self._audited: set[str] = set()      # decision ids with an audit record

    def add_receipts(self, receipts: Iterable[IngestionReceipt]) -> None:
        for r in receipts:
            if r.run_id != self.run_id:
                continue
            if r.decision is ReceiptDecision.DUPLICATE:
                self._duplicates.add(r.receipt_id)
                continue  # a DUPLICATE is a re-sent row, not a new one
            self._judged.add(r.receipt_id)
            if r.decision is ReceiptDecision.QUARANTINE:
                self._quarantined[r.receipt_id] = (
                    str(r.reason_codes[0]) if r.reason_codes else "UNSPECIFIED")
                continue
            self._admitted.add(r.receipt_id)
            if r.event_type in self.triggers and r.event_id is not None:
                self._auths.add(r.event_id)

    def add_rtdl(self, records: Iterable[BusRecord]) -> None:
        for record in records:
            body = record.body
            if run_of(body) != self.run_id:
                continue
            if record.record_type == "decision":
                trigger = body.get("trigger")
                if isinstance(trigger, Mapping) and isinstance(trigger.get("event_id"), str):
                    self._decided.add(trigger["event_id"])
                self._decisions.add(str(body.get("decision_id")))
                intents = body.get("intents")
                self._intents.update(str(i.get("action_id")) for i in
                                     (intents if isinstance(intents, list) else ())
                                     if isinstance(i, Mapping))
            elif record.record_type == "action_outcome":
                self._outcomes.add(str(body.get("action_id")))

    def add_audit(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._audited.update(str(a.get("decision_id")) for a in records
                             if run_of(a) == self.run_id)

    def progress(self) -> DrainProgress:
        return DrainProgress(
            planned_rows=self.planned_rows, rows_judged=len(self._judged),
            admitted_auths=len(self._auths), decided=len(self._decided & self._auths),
            decisions=len(self._decisions), intents=len(self._intents),
            outcomes=len(self._outcomes & self._intents),
            audited=len(self._audited & self._decisions),
            outcomes_expected=self.outcomes_expected, audit_expected=self.audit_expected,
            admitted=len(self._admitted), duplicates=len(self._duplicates),
            quarantined=len(self._quarantined),
            quarantine_reasons=tuple(Counter(self._quarantined.values()).most_common()))


class StallWatch:
    """True once the observed key has not changed for ``stall_s`` seconds of ``now``."""

    def __init__(self, stall_s: float, now: Callable[[], float]) -> None:
        self.stall_s = stall_s
        self._now = now
        self._key: Hashable = object()
        self._since = now()

    def stalled(self, key: Hashable) -> bool:
        if key != self._key:
            self._key, self._since = key, self._now()
            return False
        return self._now() - self._since > self.stall_s

    def idle_s(self) -> float:
        """Seconds since the key last changed."""
        return self._now() - self._since


def run_failure(p: DrainProgress, *, has_triggers: bool, top: int = 3) -> tuple[str, str] | None:
    """``(reason code, message)`` when a run failed at its core, else None.

    A run that admitted none of its rows (``NOTHING_ADMITTED``), or decided nothing although
    its world streams triggers (``NOTHING_DECIDED``), failed, however "drained" its steps look:
    the message names the admitted count and the top quarantine reason codes, e.g.
    ``0 of 3,000 admitted; QUARANTINE EVENT_TYPE_UNKNOWN 3,000``.
    """
    reasons = "; ".join(f"QUARANTINE {code} {n:,}" for code, n in p.quarantine_reasons[:top])
    admitted = f"{p.admitted:,} of {p.planned_rows:,} admitted"
    if p.planned_rows and p.admitted == 0:
        return "NOTHING_ADMITTED", f"{admitted}; {reasons or 'no receipt'}"
    if has_triggers and p.decided == 0:
        return "NOTHING_DECIDED", (f"{admitted}, {p.admitted_auths:,} of them triggers, none "
                                   f"decided" + (f"; {reasons}" if reasons else ""))
    return None

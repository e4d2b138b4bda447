"""The main job's summary: pure functions from what the run left on the record to the numbers.

Inputs are the run's receipts (counts), decision and outcome records read back from
``fp.bus.rtdl.v1`` (with bus timestamps), audit records (or None when DLA is not deployed), the
scorecard against the world's truth (``app.evaluation.evaluate``) and the traffic bus timestamps
of the run's admissions. Nothing is hard-coded: every number is computed from the run. Repeated
records (at-least-once) are counted once, by id, first one wins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.evaluation.scorecard_report import OUTCOMES, Evaluation
from app.evaluation.truth import TRUTH_LABELS, TruthRow
from app.labels.health import LabelHealth
from app.rails.action import OutcomeStatus
from app.rails.decision import ActionType
from app.rails.receipts import ReceiptDecision
from app.reporting.latency import (
    LatencyStats,
    TrafficPosition,
    decision_latencies_ms,
    outcome_latencies_ms,
    throughput_per_s,
)
from app.reporting.records import BusRecord

__all__ = [
    "ActionRow",
    "AuditStats",
    "ChartData",
    "MainJobSummary",
    "build_summary",
    "chart_data",
    "distinct_by",
    "flow_of",
]

RECEIPT_DECISIONS: tuple[str, ...] = tuple(d.value for d in ReceiptDecision)
STATUSES: tuple[str, ...] = tuple(s.value for s in OutcomeStatus)


@dataclass(frozen=True, slots=True)
class ActionRow:
    """Outcomes of one action type: how many intents asked, and how each ended."""

    action_type: str
    intents: int
    executed: int
    denied: int
    failed: int

    @property
    def missing(self) -> int:
        return max(0, self.intents - self.executed - self.denied - self.failed)


@dataclass(frozen=True, slots=True)
class AuditStats:
    """Decision chains against DLA's audit records."""

    decisions: int
    audited: int
    complete: int
    corrections: int

    @property
    def unaudited(self) -> int:
        return self.decisions - self.audited


@dataclass(frozen=True, slots=True)
class MainJobSummary:
    """Everything the main job reports about one run (see :func:`build_summary`)."""

    run_id: str
    planned_rows: int
    receipts: dict[str, int]
    admitted_by_type: dict[str, int]
    decisions: int
    decision_repeats: int
    decisions_by_outcome: dict[str, int]
    outcomes_expected: bool
    actions: tuple[ActionRow, ...]
    outcome_repeats: int
    outcome_conflicts: int
    evaluation: Evaluation
    decision_latency: LatencyStats | None
    decision_latency_unknown: int
    outcome_latency: LatencyStats | None
    outcome_latency_unknown: int
    throughput_per_s: float | None
    span_s: float | None
    audit: AuditStats | None
    missing: tuple[str, ...] = field(default=())
    labels: LabelHealth | None = None
    """Label health and cases (None: not measured, e.g. no Label Store deployed)."""

    @property
    def drained(self) -> bool:
        return not self.missing

    @property
    def intents(self) -> int:
        return sum(a.intents for a in self.actions)

    @property
    def outcomes(self) -> int:
        return sum(a.executed + a.denied + a.failed for a in self.actions)


@dataclass(frozen=True, slots=True)
class ChartData:
    """The series behind the report's charts (seconds are since the first admission)."""

    decision_times: tuple[tuple[float, str], ...]
    decision_latency_ms: tuple[float, ...]
    outcome_latency_ms: tuple[float, ...]
    scores_by_label: dict[str, tuple[float, ...]]


def distinct_by(records: Iterable[BusRecord], id_field: str) -> tuple[dict[str, BusRecord], int]:
    """(id -> first record with that id, count of repeats)."""
    first: dict[str, BusRecord] = {}
    repeats = 0
    for r in records:
        key = str(r.body.get(id_field))
        if key in first:
            repeats += 1
        else:
            first[key] = r
    return first, repeats


def _actions(decisions: Iterable[BusRecord],
             outcomes: Iterable[BusRecord]) -> tuple[tuple[ActionRow, ...], int, int]:
    """(rows per action type, repeated outcomes, conflicting outcomes for one intent)."""
    asked: Counter[str] = Counter()
    for d in decisions:
        intents = d.body.get("intents")
        asked.update(str(i.get("action_type")) for i in
                     (intents if isinstance(intents, list) else ()) if isinstance(i, Mapping))
    status: dict[str, tuple[str, str]] = {}  # outcome_id -> (action_type, status)
    repeats = conflicts = 0
    for o in outcomes:
        key = str(o.body.get("outcome_id"))
        seen = (str(o.body.get("action_type")), str(o.body.get("status")))
        if key in status:
            repeats += 1
            conflicts += status[key] != seen
        else:
            status[key] = seen
    ended = Counter(status.values())
    types = [t.value for t in ActionType]
    types += sorted({*asked, *(t for t, _ in ended)} - set(types))
    rows = tuple(ActionRow(t, asked[t], ended[t, "EXECUTED"], ended[t, "DENIED"],
                           ended[t, "FAILED"])
                 for t in types if asked[t] or any(ended[t, s] for s in STATUSES))
    return rows, repeats, conflicts


def _audit(decisions: Mapping[str, BusRecord],
           records: Sequence[Mapping[str, Any]]) -> AuditStats:
    """A chain is complete when its newest audit record lists every intent of the decision."""
    superseded = {str(a.get("supersedes")) for a in records if a.get("supersedes")}
    current: dict[str, set[str]] = {}
    for a in records:
        if str(a.get("audit_id")) in superseded:
            continue
        intents = a.get("intents")
        current[str(a.get("decision_id"))] = {
            str(i.get("action_id")) for i in (intents if isinstance(intents, list) else ())
            if isinstance(i, Mapping)}
    complete = 0
    for decision_id, d in decisions.items():
        intents = d.body.get("intents")
        wanted = {str(i.get("action_id")) for i in (intents if isinstance(intents, list) else ())
                  if isinstance(i, Mapping)}
        complete += decision_id in current and wanted <= current[decision_id]
    return AuditStats(decisions=len(decisions),
                      audited=sum(1 for d in decisions if d in current),
                      complete=complete, corrections=len(superseded))


def build_summary(*, run_id: str, planned_rows: int, receipts: Mapping[str, int],
                  admitted_by_type: Mapping[str, int], decisions: Sequence[BusRecord],
                  outcomes: Sequence[BusRecord], audit_records: Sequence[Mapping[str, Any]] | None,
                  evaluation: Evaluation, admitted_ms: Mapping[TrafficPosition, int],
                  outcomes_expected: bool, missing: Sequence[str] = (),
                  labels: LabelHealth | None = None) -> MainJobSummary:
    """Summarize one run.

    Args:
        receipts: distinct receipts of the run per decision (ADMIT, DUPLICATE, QUARANTINE).
        admitted_by_type: ADMIT receipts per event type.
        decisions, outcomes: the run's decision and action_outcome records on rtdl.
        audit_records: the run's audit records as dicts; None when DLA is not deployed.
        admitted_ms: traffic (partition, offset) -> bus timestamp of the run's admitted records.
        outcomes_expected: False when AL is not part of the deployment.
        missing: what the drain wait found missing (``DrainProgress.missing``).
    """
    by_id, decision_repeats = distinct_by(decisions, "decision_id")
    outcome_by_id, _ = distinct_by(outcomes, "outcome_id")
    actions, outcome_repeats, conflicts = _actions(by_id.values(), outcomes)
    decision_ms, decision_unknown = decision_latencies_ms(by_id.values(), admitted_ms)
    outcome_ms, outcome_unknown = outcome_latencies_ms(outcome_by_id.values(), by_id,
                                                       admitted_ms)
    last_decision = max((d.timestamp_ms for d in by_id.values()), default=None)
    rate, span_s = throughput_per_s(len(by_id), min(admitted_ms.values(), default=None),
                                    last_decision)
    by_outcome = Counter(str(d.body.get("outcome")) for d in by_id.values())
    return MainJobSummary(
        run_id=run_id, planned_rows=planned_rows,
        receipts={k: int(receipts.get(k, 0)) for k in RECEIPT_DECISIONS},
        admitted_by_type=dict(sorted(admitted_by_type.items())),
        decisions=len(by_id), decision_repeats=decision_repeats,
        decisions_by_outcome={**{k: by_outcome.get(k, 0) for k in OUTCOMES},
                              **{k: n for k, n in sorted(by_outcome.items())
                                 if k not in OUTCOMES}},
        outcomes_expected=outcomes_expected, actions=actions, outcome_repeats=outcome_repeats,
        outcome_conflicts=conflicts, evaluation=evaluation,
        decision_latency=LatencyStats.of(decision_ms), decision_latency_unknown=decision_unknown,
        outcome_latency=LatencyStats.of(outcome_ms), outcome_latency_unknown=outcome_unknown,
        throughput_per_s=rate, span_s=span_s,
        audit=None if audit_records is None else _audit(by_id, audit_records),
        missing=tuple(missing), labels=labels)


def flow_of(decision: Mapping[str, Any]) -> str | None:
    """The one flow the decision's intents name (the join key to truth, as in evaluation)."""
    intents = decision.get("intents")
    flows = {s.get("flow_id") for i in (intents if isinstance(intents, list) else ())
             if isinstance(i, Mapping) and isinstance(s := i.get("subject"), Mapping)}
    flows.discard(None)
    flow = flows.pop() if len(flows) == 1 else None
    return flow if isinstance(flow, str) else None


def chart_data(decisions: Sequence[BusRecord], outcomes: Sequence[BusRecord],
               admitted_ms: Mapping[TrafficPosition, int],
               truth: Mapping[str, TruthRow]) -> ChartData:
    """The series the charts draw, from the same records as :func:`build_summary`."""
    by_id, _ = distinct_by(decisions, "decision_id")
    outcome_by_id, _ = distinct_by(outcomes, "outcome_id")
    start = min(admitted_ms.values(), default=min((d.timestamp_ms for d in by_id.values()),
                                                  default=0))
    times = tuple(sorted(((d.timestamp_ms - start) / 1000, str(d.body.get("outcome")))
                         for d in by_id.values()))
    scores: dict[str, list[float]] = {label: [] for label in TRUTH_LABELS}
    for d in by_id.values():
        score, flow = d.body.get("score"), flow_of(d.body)
        row = truth.get(flow) if flow is not None else None
        if row is not None and isinstance(score, int | float) and not isinstance(score, bool):
            scores.setdefault(row.label, []).append(float(score))
    return ChartData(
        decision_times=times,
        decision_latency_ms=tuple(decision_latencies_ms(by_id.values(), admitted_ms)[0]),
        outcome_latency_ms=tuple(outcome_latencies_ms(outcome_by_id.values(), by_id,
                                                      admitted_ms)[0]),
        scores_by_label={k: tuple(v) for k, v in scores.items()})

"""Decision and outcome latency from bus timestamps, and throughput over the run's span.

Latency of a record = its bus timestamp on ``fp.bus.rtdl.v1`` minus the bus timestamp of the
trigger's traffic record (IG's admission, found by the decision's ``trigger.eb_ref``). Both come
from the broker's log, so the numbers can be re-derived from the topics at any time. Percentiles
are nearest-rank (the same rule as ``app.evaluation``): every reported value was observed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.reporting.records import BusRecord

__all__ = [
    "LatencyStats",
    "TrafficPosition",
    "decision_latencies_ms",
    "outcome_latencies_ms",
    "percentile",
    "throughput_per_s",
    "trigger_position",
]

TrafficPosition = tuple[int, int]
"""(partition, offset) of a record on ``fp.bus.traffic.v1``."""


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (``q`` in (0, 1]).

    Raises:
        ValueError: no values, or ``q`` outside (0, 1].
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < q <= 1:
        raise ValueError(f"percentile rank {q} is outside (0, 1]")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Latency of ``count`` records, in milliseconds."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, values_ms: Sequence[float]) -> LatencyStats | None:
        if not values_ms:
            return None
        return cls(len(values_ms), percentile(values_ms, 0.5), percentile(values_ms, 0.99),
                   max(values_ms))


def trigger_position(decision: Mapping[str, Any]) -> TrafficPosition | None:
    """Where a decision's trigger sits on the traffic topic (None when unreadable)."""
    trigger = decision.get("trigger")
    ref = trigger.get("eb_ref") if isinstance(trigger, Mapping) else None
    if not isinstance(ref, Mapping):
        return None
    partition, offset = ref.get("partition"), ref.get("offset")
    return (partition, offset) if isinstance(partition, int) and isinstance(offset, int) \
        else None


def decision_latencies_ms(decisions: Iterable[BusRecord],
                          admitted_ms: Mapping[TrafficPosition, int]) -> tuple[list[float], int]:
    """(latency of each decision whose trigger's admission time is known, count of the others)."""
    out: list[float] = []
    unknown = 0
    for d in decisions:
        at = admitted_ms.get(pos) if (pos := trigger_position(d.body)) is not None else None
        if at is None:
            unknown += 1
        else:
            out.append(float(d.timestamp_ms - at))
    return out, unknown


def outcome_latencies_ms(outcomes: Iterable[BusRecord], decisions: Mapping[str, BusRecord],
                         admitted_ms: Mapping[TrafficPosition, int]) -> tuple[list[float], int]:
    """(admission -> outcome latency of each outcome, count without a known trigger time).

    ``decisions`` maps decision_id to its record: an outcome reaches its trigger through it.
    """
    out: list[float] = []
    unknown = 0
    for o in outcomes:
        decision = decisions.get(str(o.body.get("decision_id")))
        pos = trigger_position(decision.body) if decision is not None else None
        at = admitted_ms.get(pos) if pos is not None else None
        if at is None:
            unknown += 1
        else:
            out.append(float(o.timestamp_ms - at))
    return out, unknown


def throughput_per_s(decisions: int, first_admission_ms: int | None,
                     last_decision_ms: int | None) -> tuple[float | None, float | None]:
    """(decisions per second, span in seconds) from the first admission to the last decision.

    None when there is nothing to divide (no decision, or no positive span).
    """
    if not decisions or first_admission_ms is None or last_decision_ms is None:
        return None, None
    span_s = (last_decision_ms - first_admission_ms) / 1000
    return (decisions / span_s if span_s > 0 else None), span_s

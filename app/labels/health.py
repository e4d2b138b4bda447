"""Label health of one run, for the main job's summary and report (issue #14).

Pure: the caller passes the run's label assertions (``app.labels.reader``), its cases
(``app.cases.log``), each decided flow's outcome and, after the run, the flows the world's truth
says were fraud or abuse (truth stays with the after-the-fact tools: ``app.reporting`` reads it).

- **Coverage**: of the flows that truly were fraud or abuse, how many the Label Store has any
  label for, by the decision's outcome (the bank's feed is late and incomplete by design; the
  learning loop learns only from what was labelled).
- **Time to label**: observed - effective of the bank's label events, in hours (p50, p90).
- **Overturn rate**: of the labelled flows, the share whose latest word disagrees with an
  earlier one on fraud/abuse versus legit (an analyst's clearing, a case verdict).
- **Cases**: opened, by state, and resolved by verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from app.cases.model import Case
from app.labels.timeline import LabelTimelines
from app.rails.label import LabelAssertion
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["LabelHealth", "label_health"]

_HOUR_US = 3_600_000_000
_BAD = frozenset({"fraud", "abuse"})


@dataclass(frozen=True, slots=True)
class LabelHealth:
    coverage: tuple[tuple[str, int, int], ...]
    """(decision outcome, fraud-or-abuse flows, of them labelled), by outcome."""
    label_events: int
    time_to_label_h_p50: float | None
    time_to_label_h_p90: float | None
    labelled_flows: int
    overturned_flows: int
    cases_opened: int
    cases_by_state: tuple[tuple[str, int], ...]
    resolved_by_verdict: tuple[tuple[str, int], ...]
    cases_from_labels: int = 0
    """Of ``cases_opened``, those a dispute or chargeback on an approved flow opened."""

    @property
    def overturn_rate(self) -> float | None:
        return self.overturned_flows / self.labelled_flows if self.labelled_flows else None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def label_health(assertions: Sequence[LabelAssertion], cases: Sequence[Case],
                 outcome_by_flow: Mapping[str, str],
                 truly_bad: AbstractSet[str]) -> LabelHealth:
    timelines = LabelTimelines()
    timelines.extend(assertions)
    labelled = {flow for _, flow in timelines.subjects()}
    coverage: dict[str, list[int]] = {}
    for flow, outcome in sorted(outcome_by_flow.items()):
        if flow not in truly_bad:
            continue
        counts = coverage.setdefault(outcome, [0, 0])
        counts[0] += 1
        counts[1] += flow in labelled
    delays = [(ts_to_epoch_micros(a.observed_ts_utc) - ts_to_epoch_micros(a.effective_ts_utc))
              / _HOUR_US for a in assertions if a.source == "label_feed"]
    overturned = 0
    for subject in timelines.subjects():
        values = [a.label_value in _BAD for a in timelines.timeline(subject)
                  if a.label_value != "inconclusive"]
        overturned += any(v != values[-1] for v in values[:-1])
    states = Counter(c.state.value for c in cases)
    verdicts = Counter(c.verdict for c in cases if c.verdict is not None)
    return LabelHealth(
        coverage=tuple((o, n, k) for o, (n, k) in sorted(coverage.items())),
        label_events=sum(a.source == "label_feed" for a in assertions),
        time_to_label_h_p50=_pct(delays, 0.5), time_to_label_h_p90=_pct(delays, 0.9),
        labelled_flows=len(labelled), overturned_flows=overturned, cases_opened=len(cases),
        cases_by_state=tuple(sorted(states.items())),
        resolved_by_verdict=tuple(sorted(verdicts.items())),
        cases_from_labels=sum(c.opened.label_id is not None for c in cases))

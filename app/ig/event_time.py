"""Event-time plausibility: the window of domain time (``ts_utc``) a run's traffic may carry.

A run streams a sealed world, and a world declares its time span by construction: every streamed
output's parts sit under ``outputs/<output_id>/utc_day=YYYY-MM-DD/`` (docs/world_pack_format.md),
and a row lives in the partition of its own event-time day. So the span of a run is
``[first utc_day 00:00, last utc_day + 1 day)`` over its streamed outputs, read from SR's
``run_facts_view`` (no scanning), and IG widens it on both sides by
``policy.ingest.event_time_skew_s`` for producers that push through HTTP. An event outside is
implausible: one ``ts_utc`` of 9999-12-31 moved a traffic partition's feature clock to year 9999
and cost a quarter of the cards their history (issue #11 item 1), so IG quarantines it
(``EVENT_TIME_IMPLAUSIBLE``).

Everything here is a pure function of the view and the policy: the same run always gets the same
window on every worker.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from app.rails.errors import ContractError
from app.rails.run_facts import RunFactsView
from app.rails.timefmt import epoch_micros_to_ts

__all__ = ["EventTimeWindow", "declared_span", "event_time_window"]

_UTC_DAY = re.compile(r"(?:^|/)utc_day=([0-9]{4}-[0-9]{2}-[0-9]{2})/")
_DAY_US = 86_400_000_000
_EPOCH_DAY = date(1970, 1, 1)


class EventTimeWindow(BaseModel):
    """``[start_us, end_us)`` in epoch microseconds: the declared span widened by the skew."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_utc_day: str = Field(description="First utc_day partition of a streamed output.")
    last_utc_day: str = Field(description="Last utc_day partition of a streamed output.")
    skew_s: float = Field(ge=0, description="Widening on both sides, seconds (policy).")
    start_us: int = Field(description="Earliest plausible ts_utc, epoch microseconds.")
    end_us: int = Field(description="First implausible ts_utc after the span, epoch microseconds.")

    def contains(self, ts_us: int) -> bool:
        """Whether an event time (epoch microseconds) is plausible for the run."""
        return self.start_us <= ts_us < self.end_us

    def describe(self) -> str:
        """The window in wire timestamps (for a quarantine detail; no payload value in it)."""
        return (f"[{_ts_or_bound(self.start_us)}, {_ts_or_bound(self.end_us)}) = utc_days "
                f"{self.first_utc_day}..{self.last_utc_day} widened by {self.skew_s:g} s")


def declared_span(view: RunFactsView) -> tuple[date, date] | None:
    """First and last ``utc_day`` over the files of the run's streamed outputs (None: none)."""
    days = sorted({date.fromisoformat(m[1]) for output in view.outputs if output.streamed
                   for fact in output.files if (m := _UTC_DAY.search(fact.path)) is not None})
    return (days[0], days[-1]) if days else None


def event_time_window(view: RunFactsView, *, skew_s: float) -> EventTimeWindow | None:
    """The run's plausible ``ts_utc`` window; None when it streams nothing (no declared span).

    Args:
        view: SR's ``run_facts_view`` of a READY run.
        skew_s: how far (seconds, >= 0) before the first day and after the last day an event may
            still lie; ``policy.ingest.event_time_skew_s``.
    """
    if skew_s < 0:
        raise ValueError(f"skew_s must be >= 0, got {skew_s}")
    span = declared_span(view)
    if span is None:
        return None
    first, last = span
    skew_us = round(skew_s * 1_000_000)
    return EventTimeWindow(
        first_utc_day=first.isoformat(), last_utc_day=last.isoformat(), skew_s=skew_s,
        start_us=_day_us(first) - skew_us, end_us=_day_us(last + timedelta(days=1)) + skew_us)


def _day_us(day: date) -> int:
    return (day - _EPOCH_DAY).days * _DAY_US


def _ts_or_bound(micros: int) -> str:
    try:
        return epoch_micros_to_ts(micros)
    except ContractError:  # past year 1..9999 (a huge skew) there is no wire form
        return f"epoch_us={micros}"

"""Exactly one decision per admitted trigger, none for anything else (DESIGN section 10).

Reads only what is on the bus — the traffic log and ``fp.bus.rtdl.v1`` — never the platform's
own counters, so it can judge the hot path from outside. IG's watermark records on the traffic
log (issue #12) are neither triggers nor other events: skipped by ``record_type``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from app.hotpath.traffic import TRIGGER_EVENT_TYPE
from app.rails.watermark import is_watermark_value

__all__ = ["DecisionCoverage", "check_decision_coverage"]


@dataclass(frozen=True)
class DecisionCoverage:
    """What the bus says about decisions of one run (or of every run when none is named)."""

    triggers: int
    decisions: int
    missing: tuple[str, ...]
    repeated: tuple[str, ...]
    for_non_triggers: tuple[str, ...]
    unknown_triggers: tuple[str, ...]
    unreadable: int

    @property
    def ok(self) -> bool:
        return not (self.missing or self.repeated or self.for_non_triggers
                    or self.unknown_triggers or self.unreadable)

    def lines(self) -> list[str]:
        def sample(ids: tuple[str, ...]) -> str:
            return ", ".join(i[:16] for i in ids[:5]) + (" ..." if len(ids) > 5 else "")

        out = [f"admitted triggers {self.triggers:,}, decisions {self.decisions:,}"]
        for name, ids in (("triggers without a decision", self.missing),
                          ("triggers decided more than once", self.repeated),
                          ("decisions for non-trigger events", self.for_non_triggers),
                          ("decisions for events not on the traffic log", self.unknown_triggers)):
            out.append(f"{name}: {len(ids)}" + (f" ({sample(ids)})" if ids else ""))
        out.append(f"unreadable rtdl records: {self.unreadable}")
        out.append("OK: exactly one decision per admitted trigger" if self.ok else "VIOLATED")
        return out


def check_decision_coverage(traffic: Iterable[bytes], rtdl: Iterable[bytes], *,
                            run_id: str | None = None,
                            trigger_types: Iterable[str] = (TRIGGER_EVENT_TYPE,)
                            ) -> DecisionCoverage:
    """Compare admitted events with decision records (of ``run_id``, if given).

    ``trigger_types``: the event types that trigger a decision (``policy.decision.triggers``).
    """
    trigger_set = frozenset(trigger_types)
    triggers: set[str] = set()
    others: set[str] = set()
    for value in traffic:
        event = orjson.loads(value)
        if is_watermark_value(event):
            continue
        if run_id is not None and event.get("run_id") != run_id:
            continue
        (triggers if event.get("event_type") in trigger_set else others).add(
            event["event_id"])
    per_trigger: Counter[str] = Counter()
    unreadable = 0
    for value in rtdl:
        try:
            record = orjson.loads(value)
            if record.get("record_type") != "decision":
                continue
            if run_id is not None and record["pins"]["run_id"] != run_id:
                continue
            per_trigger[record["trigger"]["event_id"]] += 1
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            unreadable += 1
    decided = set(per_trigger)
    return DecisionCoverage(
        triggers=len(triggers), decisions=sum(per_trigger.values()),
        missing=tuple(sorted(triggers - decided)),
        repeated=tuple(sorted(k for k, n in per_trigger.items() if n > 1)),
        for_non_triggers=tuple(sorted(decided & others)),
        unknown_triggers=tuple(sorted(decided - triggers - others)),
        unreadable=unreadable)

"""Read one run's labels and cases for the main job's summary (``app.labels.health``).

Labels are late by nature and the Label Store writes a segment about once a second, so the
summary waits (bounded) until the Label Store holds as many of the run's label events as IG
admitted, and says so when it gave up waiting rather than reporting a short count as complete.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from app.cases.log import list_case_ids, read_case
from app.cases.model import Case
from app.evaluation.truth import TruthRow
from app.labels.health import LabelHealth, label_health
from app.labels.reader import read_label_store
from app.objectstore.base import ObjectStore
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile
from app.rails.label import LabelAssertion
from app.reporting.records import BusRecord
from app.reporting.summary import flow_of

__all__ = ["read_label_health", "run_label_health"]

WAIT_S = 15.0


async def _of_run(store: ObjectStore, run_id: str) -> list[LabelAssertion]:
    view = await read_label_store(store)
    return [a for subject in view.timelines.subjects() if subject[0] == run_id
            for a in view.timelines.timeline(subject)]


async def read_label_health(store: ObjectStore, run_id: str, *, admitted_label_events: int,
                            decisions: Sequence[BusRecord], truth: Mapping[str, TruthRow],
                            wait_s: float = WAIT_S) -> tuple[LabelHealth, int]:
    """The run's label health, and how many admitted label events the Label Store did not
    hold yet when the wait ended (0: all of them)."""
    deadline = time.monotonic() + wait_s
    while True:
        assertions = await _of_run(store, run_id)
        held = sum(a.source == "label_feed" for a in assertions)
        if held >= admitted_label_events or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.5)
    cases: list[Case] = []
    for case_id in await list_case_ids(store):
        case = await read_case(store, case_id)
        if case is not None and case.opened.run_id == run_id:
            cases.append(case)
    outcomes = {flow: str(d.body.get("outcome")) for d in decisions
                if (flow := flow_of(d.body)) is not None}
    bad = {flow for flow, row in truth.items() if row.is_fraud_or_abuse}
    return label_health(assertions, cases, outcomes, bad), max(0, admitted_label_events - held)


async def run_label_health(profile: Profile, run_id: str, *, admitted_label_events: int,
                           decisions: Sequence[BusRecord], truth: Mapping[str, TruthRow]
                           ) -> tuple[LabelHealth, int]:
    """:func:`read_label_health` on the profile's object store."""
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        return await read_label_health(store, run_id,
                                       admitted_label_events=admitted_label_events,
                                       decisions=decisions, truth=truth)

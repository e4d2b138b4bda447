"""Which flows a run's admitted traffic has: the check behind "a label for an unknown flow".

A label names a flow of a run; the flow is *known* when IG admitted traffic of that run naming it
(an authorisation, a clearing, a refund, a reversal: every traffic payload carries ``flow_id``).
The answer is read from IG's admitted-traffic archive (``app.ig.archive``), so it works with the
broker down. A label whose flow is not there is kept and flagged, never dropped: the traffic may
still be on its way, or the label may be wrong, and either is for a person to see.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.ig.archive import envelopes_only, read_run
from app.objectstore.base import ObjectStore

__all__ = ["known_flows", "known_flows_of_runs"]


async def known_flows(store: ObjectStore, run_id: str) -> frozenset[str]:
    """The flow ids in ``run_id``'s admitted traffic archive (empty: none archived)."""
    flows: set[str] = set()
    for records in (await read_run(store, run_id, "traffic")).values():
        for record in envelopes_only(records):
            payload = record.record.get("payload")
            flow_id = payload.get("flow_id") if isinstance(payload, dict) else None
            if isinstance(flow_id, str):
                flows.add(flow_id)
    return frozenset(flows)


async def known_flows_of_runs(store: ObjectStore,
                              run_ids: Iterable[str]) -> dict[str, frozenset[str]]:
    """:func:`known_flows` of each run."""
    return {run_id: await known_flows(store, run_id) for run_id in sorted(set(run_ids))}

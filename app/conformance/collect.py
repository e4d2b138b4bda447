"""Gather a run's evidence from where it durably lives: the bus, the switch log, DLA segments.

Reads every platform topic back to its true end, the executor's side-effect log (the switch's
own record, independent of AL) and DLA's audit records in the object store. Nothing comes from
a worker's memory or metrics.
"""

from __future__ import annotations

from app.conformance.evidence import BusRecord, RunEvidence, records_of
from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile
from app.runtime.bus_address import bootstrap_servers

__all__ = ["collect_evidence"]


async def collect_evidence(profile: Profile, run_id: str) -> RunEvidence:
    """Everything the checks judge ``run_id`` by, under ``profile``'s wiring."""
    from app.al.side_effect_log import read_side_effects
    from app.cases.log import opened_cases
    from app.dla.lookup import read_audit_records

    worker = profile.wiring.worker
    bootstrap = bootstrap_servers(profile)[0]

    async def topic(name: Topic) -> list[BusRecord]:
        full = topic_name(name, worker.topic_prefix)
        return records_of(full, await read_topic(bootstrap, full, worker.partitions))

    traffic, rtdl, audit = (await topic(Topic.TRAFFIC), await topic(Topic.RTDL),
                            await topic(Topic.AUDIT))
    effects = read_side_effects(profile.resolve(profile.wiring.executor.log_dir))
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        audits = [a.model_dump(mode="json") for a in await read_audit_records(store)]
        effects += await opened_cases(store)  # case management is OPEN_CASE's executor
    return RunEvidence(run_id=run_id, traffic=traffic, rtdl=rtdl, audit_topic=audit,
                       side_effects=effects, audit_records=audits,
                       trigger_types=profile.policy.decision.triggers)

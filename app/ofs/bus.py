"""``parity_for_run``: read a run's traffic (every partition, watermark records included) and
its decisions back from the bus, rebuild offline, compare. The only I/O of ``app.ofs``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from app.eb.read_back import read_topic
from app.eb.topics import Topic, topic_name
from app.ofs.parity import ParityReport
from app.ofs.run import LogRecord, check_run_id, interleave, parity_of_run, traffic_records
from app.profiles.loader import Profile
from app.runtime.bus_address import bootstrap_servers

__all__ = ["TopicReader", "parity_for_run", "read_whole_topic"]

TopicReader = Callable[[Profile, Topic], Awaitable[Sequence[LogRecord]]]
"""Every record of one of the profile's topics (the broker, or a test's recording)."""


async def read_whole_topic(profile: Profile, topic: Topic) -> Sequence[LogRecord]:
    """Every record of ``topic`` (with the profile's prefix), up to its true log end."""
    worker = profile.wiring.worker
    return await read_topic(",".join(bootstrap_servers(profile)),
                            topic_name(topic, worker.topic_prefix), worker.partitions,
                            timeout_s=600.0)


async def parity_for_run(profile: Profile, run_id: str, *,
                         reader: TopicReader | None = None) -> ParityReport:
    """Parity of ``run_id``'s recorded snapshots against the offline rebuild (DESIGN section 7).

    The run id is checked before the broker is touched.

    Raises:
        ParityInputError: a malformed run id, no decision of the run, or no traffic of it.
    """
    check_run_id(run_id)
    read = reader or read_whole_topic
    rtdl = [r.value for r in await read(profile, Topic.RTDL)]
    traffic_topic = topic_name(Topic.TRAFFIC, profile.wiring.worker.topic_prefix)
    traffic = interleave(traffic_records(await read(profile, Topic.TRAFFIC)))
    return parity_of_run(run_id, traffic, rtdl, policy=profile.policy.decision,
                         policy_rev=profile.policy_rev, topic=traffic_topic)

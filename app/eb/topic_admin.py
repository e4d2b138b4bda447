"""Create platform topics up front (idempotently) with the profile's partition count.

Workers declare their topics too; commands that produce before any worker ran (``fp sr run``)
call :func:`ensure_topics` so a first publish never lands on a broker-default topic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

__all__ = ["ensure_topics"]


async def ensure_topics(bootstrap_servers: list[str], names: Iterable[str], *, partitions: int,
                        replication_factor: int = 1) -> None:
    """Create each missing topic; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, partitions, replication_factor) for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # a worker created it meanwhile
                await admin.create_topics(missing)
    finally:
        await admin.close()

"""Table writes outside a delivered event are filed under the partition a stage names."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import faust
from faust.streams import current_event

from app.tables.event_context import as_current, as_current_partition


def test_a_stand_in_event_names_the_topic_and_partition_faust_reads_for_table_writes() -> None:
    # faust's partition_for_key reads message.topic (its partition-count check) and
    # message.partition (the changelog partition): a stand-in without a topic fail-stopped AL
    as_current_partition("fp.rtdl", 3)
    event = current_event()
    assert event is not None and (event.message.topic, event.message.partition) == ("fp.rtdl", 3)
    as_current_partition("fp.rtdl", 5)
    assert current_event().message.partition == 5  # type: ignore[union-attr]
    as_current_partition("fp.other", 3)
    assert current_event().message.topic == "fp.other"  # type: ignore[union-attr]
    as_current_partition("fp.rtdl", 3)
    assert current_event() is event  # one stand-in per (topic, partition), kept alive


async def test_a_faust_table_files_a_write_under_the_stand_ins_partition() -> None:
    """Faust's own lookup (source-topic check, then partition), no broker: the consumer is
    never started, so the partition-count check has nothing to compare and passes."""
    app = faust.App("event-context-unit", broker="kafka://127.0.0.1:1", autodiscover=False,
                    loop=asyncio.get_running_loop())
    table = app.Table("t", partitions=4)
    as_current_partition("fp.rtdl", 2)
    try:
        assert table.partition_for_key(b"key") == 2
    finally:
        app.consumer._thread.thread_loop.close()  # the never-started consumer thread's loop


@dataclass
class _Message:
    partition: int = 1
    offset: int = 9


@dataclass
class _Delivered:  # faust's events are weak-referenceable objects, like this one
    message: _Message = field(default_factory=_Message)


def test_a_delivered_event_is_made_current_as_is() -> None:
    delivered = _Delivered()
    as_current_partition("fp.rtdl", 7, delivered)
    assert current_event() is delivered
    as_current(delivered)
    assert current_event() is delivered

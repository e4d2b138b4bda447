"""Table writes outside a delivered event are filed under the partition a stage names."""

from __future__ import annotations

from dataclasses import dataclass, field

from faust.streams import current_event

from app.tables.event_context import as_current, as_current_partition


def test_a_stand_in_event_names_the_partition_faust_files_table_writes_under() -> None:
    as_current_partition(3)
    event = current_event()
    assert event is not None and event.message.partition == 3
    as_current_partition(5)
    assert current_event().message.partition == 5  # type: ignore[union-attr]
    as_current_partition(3)
    assert current_event() is event  # one stand-in per partition, kept alive


@dataclass
class _Message:
    partition: int = 1
    offset: int = 9


@dataclass
class _Delivered:  # faust's events are weak-referenceable objects, like this one
    message: _Message = field(default_factory=_Message)


def test_a_delivered_event_is_made_current_as_is() -> None:
    delivered = _Delivered()
    as_current_partition(7, delivered)
    assert current_event() is delivered
    as_current(delivered)
    assert current_event() is delivered

"""graph_version: the id of the applied offset vector; monotone and order-independent."""

from __future__ import annotations

import pytest

from app.ieg import EntityGraph, GraphQueryError
from app.rails.ids import make_id

TOPIC = "fp.bus.traffic.v1"


def test_version_is_make_id_of_the_offset_vector() -> None:
    g = EntityGraph()
    assert g.graph_version() == make_id("graph_version", {})
    g.note_offset(TOPIC, 0, 10)
    g.note_offset(TOPIC, 3, 4)
    assert g.offsets() == {f"{TOPIC}|0": 10, f"{TOPIC}|3": 4}
    assert g.graph_version() == make_id("graph_version", {f"{TOPIC}|0": 10, f"{TOPIC}|3": 4})


def test_version_changes_with_any_offset() -> None:
    g = EntityGraph()
    seen = {g.graph_version()}
    for partition, offset in ((0, 1), (0, 2), (1, 1), (1, 7)):
        g.note_offset(TOPIC, partition, offset)
        seen.add(g.graph_version())
    assert len(seen) == 5


def test_version_does_not_depend_on_note_order() -> None:
    notes = [(TOPIC, 0, 5), (TOPIC, 1, 3), ("fp.bus.other.v1", 0, 9), (TOPIC, 0, 2)]
    a, b = EntityGraph(), EntityGraph()
    for note in notes:
        a.note_offset(*note)
    for note in reversed(notes):
        b.note_offset(*note)
    assert a.graph_version() == b.graph_version()


def test_an_older_offset_changes_nothing() -> None:
    g = EntityGraph()
    g.note_offset(TOPIC, 0, 9)
    before = g.graph_version()
    g.note_offset(TOPIC, 0, 3)
    g.note_offset(TOPIC, 0, 9)
    assert g.graph_version() == before and g.offsets() == {f"{TOPIC}|0": 9}


@pytest.mark.parametrize(
    ("topic", "partition", "offset"),
    [("", 0, 1), ("a|b", 0, 1), (TOPIC, -1, 1), (TOPIC, 0, -1), (TOPIC, True, 1)],
)
def test_malformed_offsets_are_refused(topic: str, partition: int, offset: int) -> None:
    with pytest.raises(GraphQueryError):
        EntityGraph().note_offset(topic, partition, offset)

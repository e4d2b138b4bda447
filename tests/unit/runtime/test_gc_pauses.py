"""GcPauses: full passes skip what survived the last one; reclaim gets frozen cycles back."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from app.runtime.gc_pauses import GcPauses


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def pauses() -> Iterator[GcPauses]:
    p = GcPauses()
    p.install()
    try:
        yield p
    finally:
        p.uninstall()
        gc.collect()


def test_survivors_of_a_full_pass_are_frozen(pauses: GcPauses) -> None:
    kept = [_Node() for _ in range(1000)]
    before = gc.get_freeze_count()
    gc.collect()  # a full pass: the callback freezes its survivors, ``kept`` among them
    assert gc.get_freeze_count() >= before + len(kept)
    assert all(gc.is_tracked(n) for n in kept)  # still tracked, only no longer walked


def test_reclaim_collects_a_cycle_that_died_while_frozen(pauses: GcPauses) -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gc.collect()  # the live cycle is frozen
    probe = weakref.ref(a)
    del a, b
    gc.collect()  # a full pass does not walk frozen objects: the dead cycle stays
    assert probe() is not None
    assert pauses.reclaim() >= 2
    assert probe() is None


def test_uninstall_stops_freezing_and_thaws() -> None:
    p = GcPauses()
    p.install()
    p.uninstall()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gc.get_freeze_count() == 0

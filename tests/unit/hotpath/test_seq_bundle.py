"""Stage 1's bundles on the seq topic: round trip, cutting, and refusal of damaged bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.hotpath.seq_bundle import (
    MAGIC,
    MAX_BUNDLE_BYTES,
    Forwarded,
    SeqBundleError,
    pack,
    pack_all,
    unpack,
)

_items = st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), min_size=1, max_size=40)


@given(partition=st.integers(0, 2**31), start=st.integers(0, 2**40), items=_items)
def test_a_bundle_gives_back_every_record_in_order(partition: int, start: int,
                                                   items: list[tuple[bool, bytes]]) -> None:
    packed = [(start + 3 * i, wm, value) for i, (wm, value) in enumerate(items)]
    assert unpack(pack(partition, packed)) == [
        Forwarded(partition, offset, wm, value) for offset, wm, value in packed]


def test_big_batches_are_cut_into_bundles_under_the_limit_and_lose_nothing() -> None:
    value = b"x" * 100_000
    items = [(i, False, value) for i in range(12)] + [(12, True, b"w" * (MAX_BUNDLE_BYTES + 1))]
    bundles = list(pack_all(7, items))
    assert len(bundles) == 4  # 5 + 5 + 2 of 100 kB, then the oversized one alone
    assert all(len(b) <= MAX_BUNDLE_BYTES for b in bundles[:-1])
    back = [item for b in bundles for item in unpack(b)]
    assert [(f.offset, f.watermark, f.value) for f in back] == items
    assert {f.partition for f in back} == {7}


@pytest.mark.parametrize(("raw", "why"), [
    (b"", "shorter than a bundle header"),
    (b"FPS1\x00\x00\x00\x00", "magic"),
    (MAGIC + b"\x00\x00\x00\x01", "without records"),
    (pack(1, [(5, False, b"abc")])[:-1], "runs past"),
    (pack(1, [(5, False, b"abc")]) + b"\x00", "truncated item header"),
    (pack(1, [(5, False, b"a"), (5, False, b"b")]), "offsets must increase"),
    (pack(1, [(5, False, b"a")]).replace(b"\x00\x00\x00\x00\x00\x00\x00\x05\x00",
                                          b"\x00\x00\x00\x00\x00\x00\x00\x05\x02"), "flags"),
    (b'{"record_type":"watermark"}', "magic"),
])
def test_a_record_that_is_not_a_bundle_is_refused_with_the_reason(raw: bytes, why: str) -> None:
    with pytest.raises(SeqBundleError, match=why):
        unpack(raw)

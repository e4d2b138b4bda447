"""IG's admitted-traffic archive: layout, create-only segments, ordered reads (issue #11 item 3)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from app.ig.archive import (
    GenerationHead,
    envelopes_only,
    parse_segment_key,
    read_from,
    read_heads,
    read_run,
    segment_key,
    write_archive,
    write_head,
)
from app.ig.errors import ArchiveCorruptError
from app.ig.restore import archived_value
from app.objectstore import LocalObjectStore
from app.rails.archive import ArchivedRecord
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.envelope import dump_envelope
from app.rails.watermark import TrafficWatermark
from tests.factories import make_envelope, make_pins


def _record(index: int, offset: int, *, partition: int = 0, run: str = "run-1",
            stream: str = "traffic") -> ArchivedRecord:
    env = make_envelope(index, pins=make_pins(request=run))
    return ArchivedRecord(stream=stream, partition=partition, offset=offset,  # type: ignore[arg-type]  # literal from a str
                          partition_key=f"card|card_{index}", ingress_partition=partition,
                          record=orjson.loads(dump_envelope(env)))


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


GEN = "0123456789abcdef"


def test_segment_key_round_trips() -> None:
    key = segment_key("a" * 32, "labels", 3, GEN, 10, 19, b"body")
    name = parse_segment_key(key)
    assert name is not None
    assert (name.run_id, name.stream, name.partition, name.generation, name.first_offset,
            name.last_offset) == ("a" * 32, "labels", 3, GEN, 10, 19)
    assert parse_segment_key("ig/receipts/p000/x.jsonl") is None


async def test_archived_value_is_the_published_bytes() -> None:
    env = make_envelope(5)
    value, parsed = archived_value(_record(5, 0))
    assert value == dump_envelope(env)
    assert parsed == env


async def test_a_tampered_archive_line_is_refused() -> None:
    bad = _record(1, 0).model_copy(update={"record": {"event_id": "nope"}})
    with pytest.raises(ArchiveCorruptError) as info:
        archived_value(bad)
    assert info.value.reason_code == "ARCHIVE_CORRUPT"


async def test_segments_per_run_and_partition_read_back_in_offset_order(
        store: LocalObjectStore) -> None:
    batch = [_record(3, 2), _record(1, 0, run="run-2"), _record(2, 1), _record(9, 0, partition=1)]
    keys = await write_archive(store, GEN, batch)
    assert len(keys) == 3  # (run-1, p0), (run-2, p0), (run-1, p1)
    assert [r.offset for r in await read_from(store, "traffic", 0, GEN)] == [0, 1, 2]
    assert [r.offset for r in await read_from(store, "traffic", 0, GEN, start=1)] == [1, 2]
    assert await read_from(store, "labels", 0, GEN) == []
    assert await read_from(store, "traffic", 0, "durable") == []  # another bus generation
    assert [r.offset for r in await read_from(store, "traffic", 1, GEN)] == [0]
    assert await read_from(store, "traffic", 2, GEN) == []


async def test_a_re_archived_offset_is_read_once(store: LocalObjectStore) -> None:
    # A crash after the archive write: the reconcile archives the same records again in
    # another grouping (another segment); readers see each offset once.
    await write_archive(store, GEN, [_record(0, 0), _record(1, 1)])
    await write_archive(store, GEN, [_record(1, 1)])
    await write_archive(store, GEN, [_record(0, 0), _record(1, 1)])  # identical: a no-op
    assert [r.offset for r in await read_from(store, "traffic", 0, GEN)] == [0, 1]


async def test_read_run_keeps_to_one_run(store: LocalObjectStore) -> None:
    await write_archive(store, GEN, [_record(0, 0), _record(1, 1, run="run-2"),
                                     _record(2, 0, partition=3)])
    run_id = _record(0, 0).run_id
    by_partition = await read_run(store, run_id)
    assert {p: [r.offset for r in rs] for p, rs in by_partition.items()} == {0: [0], 3: [0]}


async def test_read_run_takes_the_newest_generation_holding_the_run(
        store: LocalObjectStore) -> None:
    await write_head(store, GenerationHead(0, 0, "aaaa", None, 0, ()))
    await write_head(store, GenerationHead(0, 1, "bbbb", "aaaa", 2, ("run",)))
    await write_archive(store, "aaaa", [_record(0, 0), _record(1, 1)])
    await write_archive(store, "bbbb", [_record(0, 0), _record(1, 1), _record(2, 2)])
    records = (await read_run(store, _record(0, 0).run_id))[0]
    assert [r.offset for r in records] == [0, 1, 2]
    assert [h.generation for h in await read_heads(store, 0)] == ["aaaa", "bbbb"]


def _watermark(offset: int, *, partition: int = 0, run: str = "run-1",
               final: bool = False) -> ArchivedRecord:
    mark = TrafficWatermark(run_id=_record(0, 0, run=run).run_id, partition=partition,
                            partitions=4, final=final,
                            watermark_ts_utc=None if final else "2025-03-01T00:00:00.000000Z")
    return ArchivedRecord(stream="traffic", partition=partition, offset=offset,
                          partition_key=mark.run_id, ingress_partition=partition,
                          record=mark.model_dump(mode="json"), kind="watermark")


def test_a_line_written_before_watermarks_reads_as_an_envelope() -> None:
    line = _record(2, 7).model_dump(mode="json")
    del line["kind"]
    old = ArchivedRecord.model_validate(canonical_loads(canonical_dumps(line)))
    assert old.kind == "envelope" and not old.is_watermark and old == _record(2, 7)


def test_a_watermark_line_round_trips_and_names_its_run() -> None:
    mark = _watermark(4, final=True)
    again = ArchivedRecord.model_validate(canonical_loads(canonical_dumps(
        mark.model_dump(mode="json"))))
    assert again == mark and again.is_watermark and again.run_id == _record(0, 0).run_id
    assert TrafficWatermark.model_validate(again.record).final


def test_a_watermark_line_must_hold_a_watermark() -> None:
    with pytest.raises(ValidationError):
        ArchivedRecord(stream="traffic", partition=0, offset=0, partition_key="k",
                       ingress_partition=0, record=_record(0, 0).record, kind="watermark")


async def test_read_run_returns_watermarks_at_their_offsets(store: LocalObjectStore) -> None:
    await write_archive(store, GEN, [_record(0, 0), _watermark(1), _record(1, 2),
                                     _watermark(3, final=True)])
    records = (await read_run(store, _record(0, 0).run_id))[0]
    assert [(r.offset, r.kind) for r in records] == [
        (0, "envelope"), (1, "watermark"), (2, "envelope"), (3, "watermark")]
    assert [r.offset for r in envelopes_only(records)] == [0, 2]


async def test_a_large_batch_is_cut_into_segments_under_the_size_limit(
        store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restore re-archives a whole run at once (the full ULB run: 110 MB in one partition,
    over the store's 64 MiB limit): segments are cut, and read back as one log."""
    import app.ig.archive as archive

    batch = [_record(i, i) for i in range(10)]
    line = len(canonical_dumps(batch[0].model_dump(mode="json"))) + 1
    monkeypatch.setattr(archive, "SEGMENT_MAX_BYTES", 3 * line + 2)  # three lines a segment
    keys = await write_archive(store, GEN, reversed(batch))
    assert [(n.first_offset, n.last_offset) for n in map(parse_segment_key, keys)
            if n is not None] == [(0, 2), (3, 5), (6, 8), (9, 9)]
    assert all(size <= 3 * line + 2 for size in [len(await store.get(k)) for k in keys])
    assert [r.offset for r in await read_from(store, "traffic", 0, GEN)] == list(range(10))
    monkeypatch.setattr(archive, "SEGMENT_MAX_BYTES", line // 2)  # a line over the limit
    keys = await write_archive(store, "fedcba9876543210", batch[:2])
    assert len(keys) == 2  # still written, one segment each

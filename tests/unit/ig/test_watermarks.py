"""IG's progress tracking: WSP's promises per (run, ingress partition) in, watermarks out (#12)."""

from __future__ import annotations

from types import SimpleNamespace

import orjson
from aiokafka import TopicPartition

from app.ig.admission import DedupeEntry
from app.ig.http_ingest import ingress_records
from app.ig.reconcile import INGRESS_HEADER, sort_scanned
from app.ig.watermarks import (
    ProgressTracker,
    is_progress_marker,
    marker_run,
    watermark_headers,
    watermark_record,
)
from app.rails.envelope import CanonicalEnvelope
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts
from app.rails.watermark import (
    PROGRESS_END,
    PROGRESS_HEADER,
    PROGRESS_RUN_HEADER,
    WATERMARK_HEADER,
    TrafficWatermark,
    is_watermark_record,
    is_watermark_value,
)
from app.wsp.progress import end_markers, progress_markers, row_headers
from tests.factories import make_envelope_bytes

RUN, OTHER = "ab" * 16, "cd" * 16
T0 = 1_741_000_000_000_000


def _marks(tracker: ProgressTracker) -> list[tuple[str, int, str | None, bool]]:
    return [(w.run_id, w.partition, w.watermark_ts_utc, w.final) for w in tracker.due()]


def test_the_highest_progress_per_run_and_partition_becomes_one_watermark() -> None:
    tracker = ProgressTracker(partitions=2)
    for micros, partition in ((T0, 0), (T0 + 5, 0), (T0 + 3, 0), (T0 + 1, 1)):
        assert tracker.observe(RUN, partition, row_headers(micros)[PROGRESS_HEADER])
    tracker.observe(OTHER, 0, row_headers(T0 + 9)[PROGRESS_HEADER])
    assert _marks(tracker) == [(RUN, 0, epoch_micros_to_ts(T0 + 5), False),
                               (RUN, 1, epoch_micros_to_ts(T0 + 1), False),
                               (OTHER, 0, epoch_micros_to_ts(T0 + 9), False)]
    assert all(w.partitions == 2 for w in tracker.due())


def test_only_what_advanced_since_the_last_written_is_due() -> None:
    tracker = ProgressTracker(partitions=2)
    tracker.observe(RUN, 0, str(T0).encode())
    tracker.observe(RUN, 1, str(T0).encode())
    tracker.written(tracker.due())
    assert tracker.due() == []
    tracker.observe(RUN, 1, str(T0 - 1).encode())  # never backwards
    tracker.observe(RUN, 0, str(T0).encode())  # no advance
    assert tracker.due() == []
    tracker.observe(RUN, 1, str(T0 + 1).encode())
    assert _marks(tracker) == [(RUN, 1, epoch_micros_to_ts(T0 + 1), False)]


def test_end_is_a_final_watermark_and_stays_final() -> None:
    tracker = ProgressTracker(partitions=1)
    tracker.observe(RUN, 0, PROGRESS_END)
    assert _marks(tracker) == [(RUN, 0, None, True)]
    tracker.written(tracker.due())
    tracker.observe(RUN, 0, str(T0).encode())  # a late row after the end: no step back
    tracker.observe(RUN, 0, PROGRESS_END)  # END again (a redelivered READY): nothing new
    assert tracker.due() == []


def test_malformed_progress_is_ignored_and_counted() -> None:
    tracker = ProgressTracker(partitions=2)
    assert not tracker.observe(RUN, 0, b"soon")
    assert not tracker.observe(None, 0, str(T0).encode())  # no run (an unparseable row)
    assert not tracker.observe("not-a-run", 0, str(T0).encode())
    assert not tracker.observe(RUN, 2, str(T0).encode())  # outside the traffic topic
    assert tracker.observe(RUN, 0, None)  # no header at all: nothing to count
    assert tracker.malformed == 4 and tracker.due() == []


def test_markers_are_recognised_by_header_and_empty_value() -> None:
    for marker in progress_markers(RUN, T0, 2) + end_markers(RUN, 2):
        headers = list(marker.headers.items())  # as aiokafka hands them over
        assert is_progress_marker(headers, b"") and is_progress_marker(headers, None)
        assert marker_run(headers) == RUN
    row = list(row_headers(T0).items())
    assert not is_progress_marker(row, b'{"event_id": "x"}')  # a row: progress, still a row
    assert not is_progress_marker(None, b"")  # a poke-like empty record
    assert marker_run([(PROGRESS_HEADER, b"1"), (PROGRESS_RUN_HEADER, RUN.encode() + b"\n")]) \
        is None


def test_a_watermark_record_is_keyed_by_run_and_marked() -> None:
    mark = TrafficWatermark(run_id=RUN, partition=1, partitions=2,
                            watermark_ts_utc=epoch_micros_to_ts(T0), final=False)
    key, value, headers = watermark_record(mark)
    assert key == RUN.encode()
    assert TrafficWatermark.model_validate_json(value) == mark
    assert headers == watermark_headers(1) == {WATERMARK_HEADER: b"1", INGRESS_HEADER: b"1"}
    assert is_watermark_record(list(headers.items())) and is_watermark_record(headers)
    assert is_watermark_value(orjson.loads(value))
    assert not is_watermark_record([(INGRESS_HEADER, b"1")]) and not is_watermark_record(None)


def test_http_ingest_cannot_carry_progress_or_watermark_headers() -> None:
    """A client only sends body lines; the queued records carry no header a client chose."""
    lines = [make_envelope_bytes(0), b'{"record_type": "watermark"}', b"x" * 5000, b"",
             PROGRESS_HEADER.encode() + b": 1"]
    for record in ingress_records(lines, 1000, ("card_id",)):
        assert not set(record.headers or {}) & {PROGRESS_HEADER, PROGRESS_RUN_HEADER,
                                                 WATERMARK_HEADER}


def test_reconcile_files_watermark_records_apart_from_admissions() -> None:
    tp = TopicPartition("t.traffic", 1)
    mark = watermark_record(TrafficWatermark(run_id=RUN, partition=1, partitions=2,
                                             watermark_ts_utc=None, final=True))
    env = make_envelope_bytes(3)
    records = [
        SimpleNamespace(offset=0, key=b"card|1", value=env, headers=[(INGRESS_HEADER, b"1")]),
        SimpleNamespace(offset=1, key=mark[0], value=mark[1], headers=list(mark[2].items())),
        SimpleNamespace(offset=2, key=mark[0], value=mark[1],
                        headers=[(WATERMARK_HEADER, b"1"), (INGRESS_HEADER, b"0")]),  # not ours
    ]
    entries: dict[bytes, tuple[DedupeEntry, CanonicalEnvelope]] = {}
    watermarks: list[tuple[EbRef, bytes, bytes]] = []
    for r in records:
        sort_scanned(entries, watermarks, tp, r, b"1")
    assert [e.eb_ref.offset for e, _ in entries.values()] == [0]
    assert [(ref.offset, key, value) for ref, key, value in watermarks] == [(1, mark[0], mark[1])]

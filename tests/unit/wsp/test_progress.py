"""WSP's progress: the row header, the markers to every ingress partition, and their cadence."""

from __future__ import annotations

import pytest

from app.rails.watermark import (
    END_MICROS,
    PROGRESS_END,
    PROGRESS_HEADER,
    PROGRESS_RUN_HEADER,
    parse_progress,
)
from app.wsp.pacing import Pacer
from app.wsp.progress import (
    MARKER_EVERY_ROWS,
    MarkerCadence,
    end_markers,
    progress_markers,
    row_headers,
)

RUN = "ab" * 16
T0 = 1_741_000_000_000_000


def test_a_row_carries_its_own_event_time_as_progress() -> None:
    headers = row_headers(T0)
    assert headers == {PROGRESS_HEADER: str(T0).encode()}
    assert parse_progress(headers[PROGRESS_HEADER]) == T0


def test_markers_go_to_every_ingress_partition_with_the_run() -> None:
    markers = progress_markers(RUN, T0, 4)
    assert [m.partition for m in markers] == [0, 1, 2, 3]
    for m in markers:
        assert parse_progress(m.headers[PROGRESS_HEADER]) == T0
        assert m.headers[PROGRESS_RUN_HEADER] == RUN.encode()


def test_end_markers_say_end_on_every_partition() -> None:
    markers = end_markers(RUN, 3)
    assert [m.partition for m in markers] == [0, 1, 2]
    assert {m.headers[PROGRESS_HEADER] for m in markers} == {PROGRESS_END}
    assert parse_progress(PROGRESS_END) == END_MICROS


@pytest.mark.parametrize("raw", [b"", b"-1", b" 1", b"1.5", b"x", "12", None, b"9" * 21,
                                 b"253402300800000000"])
def test_malformed_progress_is_none(raw: object) -> None:
    assert parse_progress(raw) is None


def test_cadence_every_n_rows() -> None:
    cadence = MarkerCadence(monotonic=lambda: 0.0)
    due = []
    for _ in range(3 * MARKER_EVERY_ROWS):
        if cadence.due(0.0):
            due.append(True)
            cadence.marked()
        cadence.row_sent()
    assert len(due) == 2  # after rows 200 and 400 (the first row needs none: nothing waits yet)


def test_cadence_before_a_long_sleep_and_after_a_forced_round() -> None:
    cadence = MarkerCadence(every_rows=1_000, before_sleep_s=0.05, monotonic=lambda: 0.0)
    assert not cadence.due(0.05)
    assert cadence.due(0.051)
    cadence.force()
    assert cadence.due(0.0)
    cadence.marked()
    assert not cadence.due(0.0)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_pacer_delay_is_what_wait_until_due_sleeps() -> None:
    clock = _Clock()
    pacer = Pacer(60, monotonic=clock.monotonic, sleep=clock.sleep)
    assert pacer.delay(T0) == 0.0  # anchors the schedule
    later = T0 + 3_600_000_000  # an hour of world time: a minute at speedup 60
    assert pacer.delay(later) == 60.0
    assert await pacer.wait_until_due(later) == 60.0
    assert pacer.delay(later) == 0.0
    assert Pacer(0, monotonic=clock.monotonic, sleep=clock.sleep).delay(later) == 0.0


def test_a_paced_stream_marks_every_interval_of_wall_time_only_when_rows_went_out() -> None:
    clock = _Clock()
    cadence = MarkerCadence(every_rows=1_000, before_sleep_s=1.0, every_s=0.01,
                            monotonic=clock.monotonic)
    assert not cadence.due(0.002)  # nothing sent yet: nothing new to say
    cadence.row_sent()
    assert not cadence.due(0.002)  # sent, but the last round is not 10 ms old
    clock.now += 0.01
    assert not cadence.due(0.0)  # the next row goes at once: it speaks for its partition
    assert cadence.due(0.002)  # it will wait: announce the progress first
    cadence.marked()
    clock.now += 0.05
    assert not cadence.due(0.002)  # no row since the last round

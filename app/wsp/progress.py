"""WSP's event-time progress: the header on every row, and the markers between rows.

WSP streams a run in non-decreasing event time (``app.wsp.merge``), so "every row I will still
send has time >= P" holds for P = the time of the row being sent, or of the next row. That
promise travels as :data:`~app.rails.watermark.PROGRESS_HEADER` on every ingress record; IG
turns it into watermark records on the traffic log (``app.ig.watermarks``).

A partition that gets no row for a while would hold a run's fold back, so WSP also sends
*progress markers* (empty value, the run in :data:`~app.rails.watermark.PROGRESS_RUN_HEADER`)
to every ingress partition: every :data:`MARKER_EVERY_ROWS` rows, before a pacer sleep longer
than :data:`MARKER_BEFORE_SLEEP_S`, before any pacer sleep once :data:`MARKER_EVERY_S` of wall
time has passed since the last round (a paced stream: a trigger waits at most about that long
for the other partitions to speak), after each checkpoint advance, and an end marker
(:data:`~app.rails.watermark.PROGRESS_END`) to every partition once the stream's data is acked.
A stream at full speed never sleeps, so it pays only the row-count rounds. Everything here is
pure (the clock is injected); the agent does the sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.rails.watermark import (
    END_MICROS,
    PROGRESS_HEADER,
    PROGRESS_RUN_HEADER,
    encode_progress,
)

__all__ = ["MARKER_BEFORE_SLEEP_S", "MARKER_EVERY_ROWS", "MARKER_EVERY_S", "MarkerCadence",
           "ProgressMarker",
           "end_markers", "progress_markers", "row_headers"]

MARKER_EVERY_ROWS = 200
"""Rows between two rounds of markers: bounds how far an idle partition trails the stream."""
MARKER_BEFORE_SLEEP_S = 0.05
"""A pacer sleep longer than this is announced first, so the fold is not held up by the wait."""
MARKER_EVERY_S = 0.01
"""Wall seconds between two rounds of markers in a paced stream (rows sent since, and the next
row waits): bounds a trigger's wait for the other partitions' progress (issue #13: latency).
Each round is one empty record per partition, so a slower trickle pays at most 100 rounds/s."""


@dataclass(frozen=True)
class ProgressMarker:
    """One marker record for ``fp.ig.ingress.v1``: empty key and value, explicit partition."""

    partition: int
    headers: dict[str, bytes]


def row_headers(time_micros: int) -> dict[str, bytes]:
    """Headers of a data row: its own event time is a valid progress (the stream is sorted)."""
    return {PROGRESS_HEADER: encode_progress(time_micros)}


def progress_markers(run_id: str, time_micros: int, partitions: int) -> list[ProgressMarker]:
    """One marker per ingress partition saying every later row of ``run_id`` has time >=
    ``time_micros``."""
    headers = {PROGRESS_HEADER: encode_progress(time_micros),
               PROGRESS_RUN_HEADER: run_id.encode("ascii")}
    return [ProgressMarker(p, dict(headers)) for p in range(partitions)]


def end_markers(run_id: str, partitions: int) -> list[ProgressMarker]:
    """The end of ``run_id``'s stream, to every ingress partition (idempotent: IG keeps a max)."""
    return progress_markers(run_id, END_MICROS, partitions)


class MarkerCadence:
    """When the next round of markers is due (rows sent since the last round, sleeps, wall time
    since the last round, forces)."""

    def __init__(self, *, monotonic: Callable[[], float], every_rows: int = MARKER_EVERY_ROWS,
                 before_sleep_s: float = MARKER_BEFORE_SLEEP_S,
                 every_s: float = MARKER_EVERY_S) -> None:
        """``monotonic``: the wall clock (seconds) the time-based rounds are measured on."""
        self.every_rows = every_rows
        self.before_sleep_s = before_sleep_s
        self.every_s = every_s
        self._monotonic = monotonic
        self._rows = 0
        self._forced = False
        self._last = monotonic()

    def row_sent(self) -> None:
        self._rows += 1

    def force(self) -> None:
        """The next row starts with a round of markers (after a checkpoint advance)."""
        self._forced = True

    def due(self, sleep_s: float) -> bool:
        """Whether markers go out before the next row, which will first sleep ``sleep_s``."""
        if self._forced or self._rows >= self.every_rows or sleep_s > self.before_sleep_s:
            return True
        return sleep_s > 0 and self._rows > 0 and \
            self._monotonic() - self._last >= self.every_s

    def marked(self) -> None:
        self._rows = 0
        self._forced = False
        self._last = self._monotonic()

"""IG's side of event-time progress: WSP's promises in, watermark records on the traffic log out.

WSP stamps every ingress record with its progress (``app.wsp.progress``): a header on each row,
and progress markers (empty value, the run in a header) between rows. IG keeps, per (run,
ingress partition), the highest progress seen, whatever each row's admission verdict (a
quarantined or duplicate row still proves the stream got that far). After a batch's data acks,
it writes one :class:`~app.rails.watermark.TrafficWatermark` per (run, partition) whose progress
advanced since it last wrote one, into the traffic partition numbered like the ingress one: the
partition that holds every record the promise covers, so the watermark follows them in the log.

Producers that send no progress (HTTP pushes) get a fallback, for runs WSP does not stream: per
run, the highest admitted event time minus :data:`UNSTAMPED_LAG_US` (bounded out-of-orderness),
and once the run's pushes have been quiet for :data:`UNSTAMPED_IDLE_S` of processing time, that
highest time itself (everything admitted is released). IG writes these into every traffic
partition it owns, so they too sit in the log and are archived: a replay or a restored bus
decides the same. Which events they leave late depends on arrival timing: that is the price of a
producer that promises nothing, and late events are counted and flagged by the hot path.

What was written is kept in memory only: after a restart a watermark may be written again, which
is harmless (a fold keeps the max per partition). Everything here is pure; the agent publishes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.ig.reconcile import INGRESS_HEADER
from app.rails.timefmt import ts_to_epoch_micros
from app.rails.watermark import (
    END_MICROS,
    PROGRESS_HEADER,
    PROGRESS_RUN_HEADER,
    WATERMARK_HEADER,
    TrafficWatermark,
    parse_progress,
    watermark_at,
    watermark_value,
)

__all__ = ["UNSTAMPED_IDLE_S", "UNSTAMPED_LAG_US", "Headers", "ProgressTracker", "header",
           "is_progress_marker", "marker_run", "watermark_headers", "watermark_record"]

Headers = Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None
"""A consumed record's headers: aiokafka's list of pairs, or a mapping."""

_RUN_ID = re.compile(rb"[0-9a-f]{32}")

UNSTAMPED_LAG_US = 60_000_000
"""How far behind the highest admitted event time an unstamped producer's events may still come
(60 s of event time): the fallback watermark's bound."""
UNSTAMPED_IDLE_S = 2.0
"""Quiet time after which an unstamped run's admitted events are all released."""


def header(headers: Headers, name: str) -> bytes | None:
    """The value of header ``name`` (the first one), or None."""
    if not headers:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key == name:
            return value
    return None


def is_progress_marker(headers: Headers, value: bytes | None) -> bool:
    """A WSP progress marker: an empty value with a progress header. Never a submission: it is
    not admitted, receipted or quarantined."""
    return not value and header(headers, PROGRESS_HEADER) is not None


def marker_run(headers: Headers) -> str | None:
    """The run a marker speaks for (None when missing or not a run id)."""
    raw = header(headers, PROGRESS_RUN_HEADER)
    return raw.decode("ascii") if raw is not None and _RUN_ID.fullmatch(raw) else None


def watermark_headers(partition: int) -> dict[str, bytes]:
    """Headers of a watermark record: the mark every reader skips it by, and the ingress
    partition (IG's reconcile finds its own records by it)."""
    return {WATERMARK_HEADER: b"1", INGRESS_HEADER: str(partition).encode()}


def watermark_record(watermark: TrafficWatermark) -> tuple[bytes, bytes, dict[str, bytes]]:
    """``(key, value, headers)`` as IG publishes a watermark: keyed by the run."""
    return (watermark.run_id.encode("ascii"), watermark_value(watermark),
            watermark_headers(watermark.partition))


@dataclass
class ProgressTracker:
    """Highest progress per (run, partition), and what was last written as a watermark.

    ``partitions`` is the traffic topic's partition count: a progress seen on an ingress
    partition outside it (a miswired profile) is not turned into a watermark.
    """

    partitions: int

    def __post_init__(self) -> None:
        self._seen: dict[tuple[str, int], int] = {}
        self._written: dict[tuple[str, int], int] = {}
        self._stamped_runs: set[str] = set()
        self._unstamped_max: dict[str, int] = {}
        self._unstamped_last_s: dict[str, float] = {}
        self.malformed = 0

    def observe_unstamped(self, run_id: str, ts_us: int, now_s: float) -> None:
        """An admitted traffic event that carried no progress (an HTTP push) at ``now_s``
        (processing time, monotonic)."""
        if ts_us > self._unstamped_max.get(run_id, -1):
            self._unstamped_max[run_id] = ts_us
        self._unstamped_last_s[run_id] = now_s

    def unstamped_due(self, owned: Iterable[int], now_s: float) -> list[TrafficWatermark]:
        """Fallback watermarks for runs no stamped source (WSP) speaks for, into every owned
        traffic partition where it advances (see the module docstring)."""
        out: list[TrafficWatermark] = []
        partitions = sorted(p for p in owned if 0 <= p < self.partitions)
        for run_id, top in sorted(self._unstamped_max.items()):
            if run_id in self._stamped_runs:
                continue  # WSP's progress governs the run
            quiet = now_s - self._unstamped_last_s[run_id] >= UNSTAMPED_IDLE_S
            micros = top + 1 if quiet else top - UNSTAMPED_LAG_US
            out.extend(watermark_at(run_id, p, self.partitions, micros) for p in partitions
                       if micros > max(self._written.get((run_id, p), -1),
                                       self._seen.get((run_id, p), -1)))
        return out

    def observe(self, run_id: str | None, partition: int, raw: bytes | None) -> bool:
        """Note one record's progress header (``raw``; None: the record carries none).

        Returns False when the progress was unusable (malformed, no run, or a partition
        outside the traffic topic): ignored and counted in :attr:`malformed`.
        """
        if raw is None:
            return True
        micros = parse_progress(raw)
        if micros is None or run_id is None or not _RUN_ID.fullmatch(run_id.encode("utf-8")) \
                or not 0 <= partition < self.partitions:
            self.malformed += 1
            return False
        key = (run_id, partition)
        self._stamped_runs.add(run_id)
        if micros > self._seen.get(key, -1):
            self._seen[key] = micros
        return True

    def due(self) -> list[TrafficWatermark]:
        """One watermark per (run, partition) whose progress advanced since the last written,
        in (run, partition) order."""
        return [watermark_at(run_id, partition, self.partitions, micros)
                for (run_id, partition), micros in sorted(self._seen.items())
                if micros > self._written.get((run_id, partition), -1)]

    def written(self, watermarks: Iterable[TrafficWatermark]) -> None:
        """The broker acked these: do not write them again."""
        for w in watermarks:
            key = (w.run_id, w.partition)
            micros = END_MICROS if w.final or w.watermark_ts_utc is None \
                else ts_to_epoch_micros(w.watermark_ts_utc)
            self._written[key] = max(self._written.get(key, -1), micros)

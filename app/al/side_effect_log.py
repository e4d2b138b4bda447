"""The simulated switch's durable, append-only side-effect log, shared by worker processes.

One JSON line per side effect (canonical JSON), in ``<log_dir>/side_effects.jsonl``. It is the
switch's own record of what it did, so effectively-once is checkable from outside the platform
(:func:`read_side_effects`). Several worker processes share one switch: a writer holds an
exclusive ``fcntl.flock`` while it reads the log's new tail, checks keys and appends the batch's
new lines, then flushes and fsyncs once for the whole batch. Each process keeps an index of the
keys it has read and the byte offset it has read up to, so a batch reads only the new tail.

A crash mid-write can leave a torn last line with no newline. Readers ignore an unterminated tail
line; the next writer first terminates it, which turns it into a complete line that does not
parse and is skipped (nothing in it was ever answered as done).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from app.rails.canonical_json import canonical_dumps

__all__ = ["LOG_FILE_NAME", "SideEffectLog", "read_side_effects"]

logger = logging.getLogger(__name__)
LOG_FILE_NAME = "side_effects.jsonl"


def _complete_lines(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """The parsed complete lines of ``data`` and how many bytes they span (an unterminated tail
    line is left for later; a complete line that does not parse is a torn write, skipped)."""
    end = data.rfind(b"\n")
    if end < 0:
        return [], 0
    entries: list[dict[str, Any]] = []
    for line in data[:end].split(b"\n"):
        if not line:
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            logger.warning("switch log: skipped a torn line of %d bytes", len(line))
            continue
        if isinstance(entry, dict) and isinstance(entry.get("idempotency_key"), str):
            entries.append(entry)
    return entries, end + 1


def read_side_effects(log_dir: Path | str) -> list[dict[str, Any]]:
    """Every side effect in the log, in order (for tests and conformance: no platform code).

    Duplicates are reported as they are in the file, so a checker can count them.
    """
    path = Path(log_dir) / LOG_FILE_NAME
    if not path.exists():
        return []
    return _complete_lines(path.read_bytes())[0]


class SideEffectLog:
    """Idempotent appends by key; blocking file work (call it from a thread)."""

    def __init__(self, log_dir: Path) -> None:
        self.path = log_dir / LOG_FILE_NAME
        self._index: dict[str, str] = {}  # idempotency key -> side_effect_ref
        self._offset = 0  # bytes of the log folded into _index
        self._lock = threading.Lock()  # the index is shared by this process's threads

    def append_new(self, entries: Sequence[dict[str, Any]]) -> dict[str, tuple[str, bool]]:
        """Append the entries whose key the log does not hold yet, under the writers' lock.

        Args:
            entries: side effects with ``idempotency_key`` and ``side_effect_ref``.

        Returns:
            key -> (side_effect_ref held for it, already_done), for every entry's key.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a+b") as log:
            fcntl.flock(log.fileno(), fcntl.LOCK_EX)
            try:
                self._terminate_torn_tail(log)
                self._read_tail(log)
                held: dict[str, tuple[str, bool]] = {}
                lines: list[bytes] = []
                for entry in entries:
                    key = entry["idempotency_key"]
                    if key in held:  # twice in one batch: one side effect
                        continue
                    if key in self._index:
                        held[key] = (self._index[key], True)
                        continue
                    held[key] = (entry["side_effect_ref"], False)
                    lines.append(canonical_dumps(entry) + b"\n")
                if lines:
                    log.write(b"".join(lines))
                    log.flush()
                    os.fsync(log.fileno())
                    for key, (ref, already) in held.items():
                        if not already:
                            self._index[key] = ref
                    self._offset = log.tell()  # nobody else writes while we hold the lock
                return held
            finally:
                fcntl.flock(log.fileno(), fcntl.LOCK_UN)

    def lookup(self, keys: Sequence[str]) -> dict[str, str]:
        """Refs held for ``keys`` (reads the new tail; no lock: only complete lines count)."""
        if not self.path.exists():
            return {}
        with self._lock, open(self.path, "rb") as log:
            self._read_tail(log)
            return {key: self._index[key] for key in keys if key in self._index}

    def _read_tail(self, log: IO[bytes]) -> None:
        log.seek(0, os.SEEK_END)
        if log.tell() < self._offset:  # the log was replaced: start over
            self._index.clear()
            self._offset = 0
        log.seek(self._offset)
        entries, consumed = _complete_lines(log.read())
        for entry in entries:
            self._index.setdefault(entry["idempotency_key"], str(entry.get("side_effect_ref")))
        self._offset += consumed

    @staticmethod
    def _terminate_torn_tail(log: IO[bytes]) -> None:
        """Start appends on a fresh line if a writer died mid-line."""
        size = log.seek(0, os.SEEK_END)
        if size:
            log.seek(size - 1)
            if log.read(1) != b"\n":
                log.write(b"\n")

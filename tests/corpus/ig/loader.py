"""Load the IG corpus: bad submissions with their expected reason code, and good envelopes.

``cases.yaml`` is the index: the one run every case belongs to, the IG policy the expectations
assume, the good envelopes (one per streamed event type) and the bad cases. A case names either a
``file`` (the exact bytes submitted) or a ``generator`` (bytes built here because committing them
would be wasteful, e.g. an oversize record).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from app.ig.admission import RunState
from app.rails.pins import ContextPins
from app.rails.reason_codes import ReasonCode

__all__ = [
    "CORPUS_DIR",
    "GENERATORS",
    "CorpusCase",
    "GoodEnvelope",
    "IngestSettings",
    "good_envelopes",
    "ingest_settings",
    "load_cases",
    "load_good",
    "ready_run",
]

CORPUS_DIR = Path(__file__).resolve().parent
_INDEX = CORPUS_DIR / "cases.yaml"


@dataclass(frozen=True)
class CorpusCase:
    """One bad submission: its raw bytes and the reason code IG must quarantine it with."""

    name: str
    raw: bytes
    expected: ReasonCode
    why: str
    source: str
    """The corpus file (relative to the corpus folder) or ``generator:<name>``."""
    paths: tuple[str, ...] = ()
    """The field paths the rejection names (sorted), when the case pins them."""


@dataclass(frozen=True)
class GoodEnvelope:
    """One admissible envelope of the corpus run and the stream IG must route it to."""

    raw: bytes
    event_type: str
    stream: str
    file: str


@dataclass(frozen=True)
class IngestSettings:
    """The IG policy knobs the expectations assume."""

    max_record_bytes: int
    partition_key_precedence: tuple[str, ...]


@cache
def _index() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(_INDEX.read_text(encoding="utf-8"))
    return loaded


def _read(rel: str) -> bytes:
    path = (CORPUS_DIR / rel).resolve()
    if CORPUS_DIR not in path.parents:
        raise ValueError(f"corpus file {rel!r} lies outside {CORPUS_DIR}")
    return path.read_bytes()


def ready_run() -> RunState:
    """The corpus run, as SR would declare it READY to IG."""
    run = dict(_index()["run"])
    seed = run.pop("seed")
    return RunState(pins=ContextPins(**run), seed=seed, status="READY")


def ingest_settings() -> IngestSettings:
    """``max_record_bytes`` and partition-key precedence the corpus was written against."""
    ingest = _index()["ingest"]
    return IngestSettings(
        max_record_bytes=int(ingest["max_record_bytes"]),
        partition_key_precedence=tuple(ingest["partition_key_precedence"]),
    )


def load_good() -> list[GoodEnvelope]:
    """The good envelopes with their event type, expected stream and file, in index order."""
    return [
        GoodEnvelope(_read(g["file"]), g["event_type"], g["stream"], g["file"])
        for g in _index()["good"]
    ]


def good_envelopes() -> list[bytes]:
    """Raw bytes of the good envelopes (one per streamed event type), to interleave with cases."""
    return [good.raw for good in load_good()]


def _oversize_record() -> bytes:
    """The first good envelope padded with JSON whitespace to exactly one byte over the limit."""
    raw = good_envelopes()[0].rstrip()
    return raw + b" " * (ingest_settings().max_record_bytes + 1 - len(raw))


GENERATORS: dict[str, Callable[[], bytes]] = {"oversize_record": _oversize_record}
"""Cases built in code: ``generator: <name>`` in cases.yaml."""


def load_cases() -> list[CorpusCase]:
    """Every bad case in index order.

    Raises:
        ValueError: a case names both or neither of ``file`` and ``generator``, or an unknown
            generator or reason code.
    """
    cases: list[CorpusCase] = []
    for entry in _index()["cases"]:
        name = entry["name"]
        if ("file" in entry) == ("generator" in entry):
            raise ValueError(f"corpus case {name}: give exactly one of file or generator")
        if "file" in entry:
            raw, source = _read(entry["file"]), entry["file"]
        elif entry["generator"] in GENERATORS:
            raw, source = GENERATORS[entry["generator"]](), f"generator:{entry['generator']}"
        else:
            raise ValueError(f"corpus case {name}: unknown generator {entry['generator']!r}")
        paths = tuple(sorted(entry.get("paths", ())))
        cases.append(
            CorpusCase(name, raw, ReasonCode(entry["reason"]), entry["why"], source, paths)
        )
    return cases

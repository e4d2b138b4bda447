"""DLA's CPU per decision chain (issue #13): parse, fold, segment encode, index, put. Prints
numbers, never asserts.

Method (in-process, no broker, no faust):

1. Input, built once and cached under ``.cache/bench/audit/`` (git-ignored): real decision
   records from the real engine (``HotPath.offer`` over the framed seq file of
   ``bench.bench_takeover``, up to ``--decisions``), as canonical JSON the way the hot-path agent
   publishes them. Each is followed, ``LAG`` decisions later (AL answers after DF moved on, so
   chains are open at segment cuts), by one ``ActionOutcome`` per intent built the way AL builds
   it (``app.al.execute.outcome_of`` with the payment switch's first-attempt OK reply and side
   effect ref), canonical JSON. Every ``REDELIVER_EVERY``-th decision and outcome is delivered
   twice (at-least-once), so the repeat paths are in the mix.
2. Per round: a fresh :class:`AuditPartition` applies every record in offset order and flushes
   into a fresh :class:`LocalObjectStore` (temp dir) every ``--chains`` buffered entries (the
   agent's ``segment_max_chains``), then once at the end; ``applied_at_utc`` is fixed so the
   bytes are a function of the input only. Then a new partition restores from that store (a
   takeover) as a check.
3. CPU (``time.process_time``: all threads, the store writes in one) per closed chain, split
   by wrapping the module-level functions the code calls: parse (``chains._parse``), fold
   (``apply`` minus parse), segment encode (``encode_segment``), index (building and encoding
   the index object), put (``ObjectStore.put``); plus restore per chain. Median of ``--rounds``
   after one warm-up round. Printed digests (sha256 over every segment's key and bytes, and
   over every index object) change when anything written changes.

Run: ``python -m bench.bench_audit_cpu [--decisions 5000] [--chains 500] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

import app.dla.chains as chains_module
import app.dla.partition_log as partition_log_module
from app.al.execute import attempt_of, outcome_of
from app.al.executor import ExecutionReply
from app.al.payment_switch import EXECUTOR_NAME, side_effect_ref_of
from app.dla.partition_log import AuditPartition, LogRecord
from app.hotpath.engine import HotPath
from app.objectstore.base import ObjectRef
from app.objectstore.local import LocalObjectStore
from app.profiles.loader import load_profile
from app.rails.action import AttemptResult, OutcomeStatus
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionRecord
from app.rails.receipts import EbRef
from bench.bench_takeover import SEED, TRAFFIC, _context, read_seq, seq_file
from bench.common import run_facts

__all__ = ["main"]

RTDL = "fp.bus.rtdl.v1"
LAG = 3
"""Outcomes of decision i follow decision i + LAG on the partition."""
REDELIVER_EVERY = 50
APPLIED_AT = "2026-01-01T00:00:00.000000Z"
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "bench" / "audit"
FORMAT = 1  # of the cached decisions file

# Phase -> names in app.dla.partition_log whose calls count toward it (those that exist).
ENCODE_NAMES = ("encode_segment", "segment_bytes", "entry_line")
INDEX_NAMES = ("decode_segment", "index_of", "encode_index", "index_of_entries",
               "index_of_keys", "index_bytes")
PHASES = ("parse", "fold", "encode", "index", "put")


# --- 1. input ---------------------------------------------------------------------------

def decisions_file(scale: str, days: int, cap: int) -> Path:
    """Canonical decision records, one a line (built with the real engine on first use)."""
    path = CACHE / f"decisions-{scale}-s{SEED}-d{days}-n{cap}-f{FORMAT}.jsonl"
    if path.exists():
        return path
    started = time.perf_counter()
    profile = load_profile("local")
    hot = HotPath(profile.policy.decision, profile.policy_rev)
    ctx = _context()
    _, lines = read_seq(seq_file(scale, days, SEED))
    out: list[bytes] = []
    for kind, src, value in lines:
        p, o = src.split(b":")
        ref = EbRef(topic=TRAFFIC, partition=int(p), offset=int(o))
        for result in hot.offer(value, ref, ctx, run_known=lambda _run: True,
                                watermark=kind == b"W"):
            if result.decision is not None:
                out.append(canonical_dumps(result.decision.model_dump(mode="json")))
        if len(out) >= cap:
            break
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"\n".join(out[:cap]) + b"\n")
    tmp.rename(path)
    print(f"  built {len(out[:cap]):,} decisions in {time.perf_counter() - started:.1f} s "
          f"-> {path.name}", flush=True)
    return path


def outcomes_of(raw: bytes) -> list[bytes]:
    """AL's outcome for every intent of the decision (first attempt answered OK)."""
    record = DecisionRecord.model_validate_json(raw)
    rev = load_profile("local").policy_rev
    out = []
    for intent in record.intents:
        ref = side_effect_ref_of(intent.action_id)
        reply = ExecutionReply(intent.action_id, AttemptResult.OK, side_effect_ref=ref)
        outcome = outcome_of(record, intent, status=OutcomeStatus.EXECUTED, reason_codes=(),
                             attempts=(attempt_of(1, reply),), side_effect_ref=ref,
                             executor=EXECUTOR_NAME, policy_rev=rev)
        out.append(canonical_dumps(outcome.model_dump(mode="json")))
    return out


def partition_log(decisions: list[bytes]) -> list[bytes]:
    """The rtdl partition: decisions, each one's outcomes LAG decisions later, repeats."""
    values: list[bytes] = []
    waiting: list[list[bytes]] = []
    for i, raw in enumerate(decisions):
        values.append(raw)
        if i % REDELIVER_EVERY == 7:
            values.append(raw)  # the same decision again
        waiting.append(outcomes_of(raw))
        if len(waiting) > LAG:
            values.extend(_delivered(waiting.pop(0), i))
    for n, outs in enumerate(waiting):
        values.extend(_delivered(outs, len(decisions) + n))
    return values


def _delivered(outcomes: list[bytes], i: int) -> list[bytes]:
    return [*outcomes, *outcomes[:1]] if i % REDELIVER_EVERY == 11 else outcomes


# --- 2. one round -------------------------------------------------------------------------

class _Cpu:
    """CPU seconds per phase, from wrapped functions (no nesting between phases)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys((*PHASES, "apply", "restore"), 0.0)

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        seconds = self.seconds
        clock = time.process_time

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[phase] += clock() - t0

        return timed


@contextmanager
def _wrapped(cpu: _Cpu) -> Iterator[None]:
    """Patch the module-level names the fold and the flush call."""
    patches: list[tuple[Any, str, Any]] = [(chains_module, "_parse", "parse")]
    patches += [(partition_log_module, n, "encode") for n in ENCODE_NAMES
                if hasattr(partition_log_module, n)]
    patches += [(partition_log_module, n, "index") for n in INDEX_NAMES
                if hasattr(partition_log_module, n)]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patches]
    for mod, name, phase in patches:
        setattr(mod, name, cpu.wrap(phase, getattr(mod, name)))
    try:
        yield
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)


class _TimedStore(LocalObjectStore):
    """A local store whose ``put`` counts as the put phase (its write thread included)."""

    def __init__(self, root: Path, cpu: _Cpu) -> None:
        super().__init__(str(root))
        self.cpu = cpu

    async def put(self, key: str, data: bytes) -> ObjectRef:
        t0 = time.process_time()
        try:
            return await super().put(key, data)
        finally:
            self.cpu.seconds["put"] += time.process_time() - t0


async def _round(values: list[bytes], chains: int, root: Path) -> dict[str, Any]:
    cpu = _Cpu()
    store = _TimedStore(root, cpu)
    part = AuditPartition("bench", RTDL, 0)
    closed = anomalies = segments = 0
    records = [LogRecord(o, v, 1_700_000_000.0 + o) for o, v in enumerate(values)]
    with _wrapped(cpu):
        for record in records:
            t0 = time.process_time()
            part.apply(record)
            cpu.seconds["apply"] += time.process_time() - t0
            if part.buffered >= chains:
                flushed = await part.flush(store, APPLIED_AT)
                assert flushed is not None
                closed += len(flushed.closed)
                anomalies += len(flushed.anomalies)
                segments += 1
        flushed = await part.flush(store, APPLIED_AT)
        if flushed is not None:
            closed += len(flushed.closed)
            anomalies += len(flushed.anomalies)
            segments += 1
    cpu.seconds["fold"] = cpu.seconds["apply"] - cpu.seconds["parse"]

    async def read_range(start: int, stop: int) -> list[LogRecord]:
        return records[start:stop]

    t0 = time.process_time()
    again = AuditPartition("bench", RTDL, 0)
    await again.restore(store, read_range)
    cpu.seconds["restore"] = time.process_time() - t0
    same = (again.next_offset == part.next_offset
            and {k: v.latest for k, v in again.fold.audited.items()}
            == {k: v.latest for k, v in part.fold.audited.items()})
    seg_digest, index_digest = hashlib.sha256(), hashlib.sha256()
    for prefix, digest in (("dla/segments", seg_digest), ("dla/index", index_digest)):
        for key in sorted(await store.list(prefix)):
            digest.update(key.encode() + b"\0" + await store.get(key) + b"\0")
    return {"seconds": cpu.seconds, "closed": closed, "anomalies": anomalies,
            "segments": segments, "restored_same": same,
            "segments_sha256": seg_digest.hexdigest(), "index_sha256": index_digest.hexdigest()}


# --- 3. report ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--chains", type=int, default=500,
                        help="flush when this many entries are buffered (segment_max_chains)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"DLA CPU per chain  scale={args.scale} days={args.days} seed={SEED}  {run_facts()}")
    decisions = decisions_file(args.scale, args.days, args.decisions) \
        .read_bytes().splitlines()
    values = partition_log(decisions)
    intents = sum(len(orjson.loads(d)["intents"]) for d in decisions)
    print(f"  {len(decisions):,} decisions ({sum(map(len, decisions)) / len(decisions):,.0f} B "
          f"avg), {intents:,} outcomes, {len(values):,} rtdl records (repeats included); "
          f"flush every {args.chains} entries")
    runs = []
    with tempfile.TemporaryDirectory(prefix="fp-bench-audit-") as tmp:
        for r in range(args.rounds + 1):  # round 0 warms up
            runs.append(asyncio.run(_round(values, args.chains, Path(tmp) / f"r{r}")))
    runs = runs[1:]
    closed = runs[0]["closed"]
    print(f"  {closed:,} chains closed, {runs[0]['anomalies']} anomalies, "
          f"{runs[0]['segments']} segments; median of {len(runs)} rounds after a warm-up, "
          "CPU microseconds per chain (time.process_time):")

    def per_chain(phase: str) -> list[float]:
        return [r["seconds"][phase] / closed * 1e6 for r in runs]

    total = [sum(r["seconds"][p] for p in PHASES) / closed * 1e6 for r in runs]
    for phase in (*PHASES, "restore"):
        values_us = per_chain(phase)
        print(f"    {phase:<8} {statistics.median(values_us):8.1f}  "
              f"(min {min(values_us):.1f} max {max(values_us):.1f})")
    print(f"    {'total':<8} {statistics.median(total):8.1f}  (parse+fold+encode+index+put; "
          f"{1e6 / statistics.median(total):,.0f} chains per CPU second)")
    digests = {(r["segments_sha256"], r["index_sha256"]) for r in runs}
    print(f"  segments sha256 {runs[0]['segments_sha256']}")
    print(f"  index    sha256 {runs[0]['index_sha256']}")
    print(f"  check: same bytes every round: {'yes' if len(digests) == 1 else 'NO'}; restore "
          f"reads back the same chains: {'yes' if all(r['restored_same'] for r in runs) else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
